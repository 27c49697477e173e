import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  runTraffic,
  validateTrafficOptions,
  type TrafficOptions,
  type TrafficProgress,
  type TrafficSummary,
} from './traffic-generator.js';

export const USAGE = `usage: node dist/simulator/traffic/cli.js --url URL [--secret S] [--streamers N]
         (--rate PER_SECOND [--burst N] | --burst N) [--duration SECONDS] [--count N]
         [--types a,b | --follow-raid] [--duplicates SHARE] [--resends SHARE] [--concurrency N] [--seed N] [--json]

Plays Twitch towards a webhook: signed EventSub notifications for N fake streamers.
  --url          the webhook, e.g. http://127.0.0.1:3000/webhooks/twitch
  --secret       the subscriptions' secret (10-100 characters); default $TWITCH_EVENTSUB_SECRET
  --streamers    how many fake channels (default 10)
  --rate         requests per second, redeliveries included
  --burst        send N at once; alone it is the whole run, with --rate a head start
  --duration     stop after this many seconds; --count: after N unique events
                 (with neither, it runs until Ctrl-C)
  --types        comma-separated EventSub types (default: a mix led by chat and follows)
  --follow-raid  a follow-bot raid: every event is a new account following the first streamer
  --duplicates   share (0..1) of events delivered again with the same message id
  --resends      share (0..1) of events sent again with a new message id
  --concurrency  most requests in flight (default 32)
  --seed         replay the same users and events
  --json         print the summary as JSON
Exits 1 when any request failed or was answered outside 2xx (when none got an answer, it
says why in one line instead of the summary), 2 on bad arguments.`;

/** Bad command-line arguments: print the usage and exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type CliCommand =
  | { help: true }
  | { help: false; options: Omit<TrafficOptions, 'signal' | 'onProgress'>; json: boolean };

const FLAGS: Record<string, string> = {
  webhookUrl: '--url',
  durationSeconds: '--duration',
  duplicateShare: '--duplicates',
  resendShare: '--resends',
};
const flagWording = (message: string) =>
  message
    .replace(/^Invalid traffic options: /, '')
    .replace(/\b(\w+)\b(?= must| is required)/g, (key) => FLAGS[key] ?? `--${key}`);

/** The run the arguments ask for; throws UsageError saying what is wrong with them. */
export function parseTrafficArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliCommand {
  const text = { type: 'string' } as const;
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        url: text,
        secret: text,
        streamers: text,
        rate: text,
        burst: text,
        duration: text,
        count: text,
        types: text,
        duplicates: text,
        resends: text,
        concurrency: text,
        seed: text,
        json: { type: 'boolean' },
        'follow-raid': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    // Node's message goes on about positionals; its first sentence says it all.
    throw new UsageError((error as Error).message.split('. ')[0]);
  }
  if (values.help) return { help: true };
  const number = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) {
      throw new UsageError(`--${flag} must be a number, got "${value}"`);
    }
    return n;
  };
  if (!values.url) throw new UsageError('--url is required');
  const secret = values.secret ?? env.TWITCH_EVENTSUB_SECRET;
  if (!secret) throw new UsageError('--secret or TWITCH_EVENTSUB_SECRET is required');
  const command = {
    help: false as const,
    json: values.json ?? false,
    options: {
      webhookUrl: values.url,
      secret,
      streamers: number('streamers', values.streamers) ?? 10,
      rate: number('rate', values.rate),
      burst: number('burst', values.burst),
      durationSeconds: number('duration', values.duration),
      count: number('count', values.count),
      types: values.types
        ?.split(',')
        .map((t) => t.trim())
        .filter(Boolean),
      duplicateShare: number('duplicates', values.duplicates),
      resendShare: number('resends', values.resends),
      concurrency: number('concurrency', values.concurrency),
      seed: number('seed', values.seed),
      ...(values['follow-raid'] ? { followRaid: true } : {}),
    },
  };
  try {
    // The CLI always stops on Ctrl-C, so it needs no count or duration.
    validateTrafficOptions({ ...command.options, signal: new AbortController().signal });
  } catch (error) {
    throw new UsageError(flagWording((error as Error).message));
  }
  return command;
}

export const progressLine = (p: TrafficProgress) =>
  `sent ${p.sent} (${Math.round(p.ratePerSecond)}/s), accepted ${p.accepted}, errors ${p.errors}` +
  (p.rejected ? `, rejected ${p.rejected}` : '');

/** The summary as a table for people. */
export function formatSummary(s: TrafficSummary): string {
  const counts = (record: Record<string, number>, names: Record<string, string> = {}) =>
    Object.entries(record)
      .map(([key, n]) => `${names[key] ?? key} ×${n}`)
      .join(', ');
  const rejected = Object.values(s.rejected).reduce((a, b) => a + b, 0);
  const { p50, p95, p99, max } = s.latencyMs;
  const rows: Array<[string, number | string, string?]> = [
    ['sent', s.sent, `${s.ratePerSecond}/s over ${(s.elapsedMs / 1000).toFixed(1)} s`],
    ['unique events', s.unique],
    ['duplicates', s.duplicates, 'same message id, retry 1'],
    ['re-sends', s.resends, 'new message id'],
    ['accepted (2xx)', s.accepted],
    ['rejected', rejected, counts(s.rejected)],
    ['errors', s.errors, counts(s.errorsByCause, s.errorDetails)],
    ['latency ms', '', `p50 ${p50}  p95 ${p95}  p99 ${p99}  max ${max}`],
  ];
  const byType = Object.entries(s.byType).sort(([, a], [, b]) => b - a);
  const width = Math.max(0, ...byType.map(([type]) => type.length));
  return [
    ...rows.map(([name, n, note]) => `${name.padEnd(16)}${String(n).padStart(8)}  ${note ?? ''}`),
    '',
    'unique events by type',
    ...byType.map(([type, n]) => `  ${type.padEnd(width)}  ${String(n).padStart(7)}`),
  ]
    .map((line) => line.trimEnd())
    .join('\n');
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  signal?: AbortSignal;
}

/** The whole command; returns the exit code. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  let command: CliCommand;
  try {
    command = parseTrafficArgs(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`${USAGE}\n\nerror: ${error.message}\n`);
    return 2;
  }
  if (command.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const { options, json } = command;
  if (options.count === undefined && options.durationSeconds === undefined && options.rate) {
    io.stderr('no --count or --duration: running until Ctrl-C\n');
  }
  const summary = await runTraffic({
    ...options,
    ...(io.signal ? { signal: io.signal } : {}),
    onProgress: (p) => io.stderr(`${progressLine(p)}\n`),
  });
  const rejected = Object.values(summary.rejected).reduce((a, b) => a + b, 0);
  if (summary.sent > 0 && summary.errors === summary.sent) {
    // Nothing answered: the table would only count it. Say why, in one line.
    const why = Object.values(summary.errorDetails).join('; ');
    io.stderr(`error: no request reached ${options.webhookUrl}: ${why}\n`);
    if (json) io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
    return 1;
  }
  io.stdout(json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`);
  return summary.errors + rejected > 0 ? 1 : 0;
}

function invokedDirectly(): boolean {
  try {
    const script = process.argv[1];
    return script !== undefined && pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  // The first Ctrl-C stops sending and prints the summary; a second one kills the process.
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.exitCode = await runCli(process.argv.slice(2), process.env, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    signal: abort.signal,
  });
}
