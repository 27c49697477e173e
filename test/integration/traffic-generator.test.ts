import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { normalizeEvent } from '../../src/shared/events/normalize.js';
import { verifyEventSubSignature } from '../../src/shared/twitch/signature.js';
import {
  formatSummary,
  parseTrafficArgs,
  runCli,
  UsageError,
} from '../../src/simulator/traffic/cli.js';
import { runTraffic, type TrafficSummary } from '../../src/simulator/traffic/traffic-generator.js';
import { freePort } from '../helpers/processes.js';

const SECRET = 'traffic-test-secret';
/** Types whose events always carry an id or a time, so two of them never share their bytes. */
const DISTINCT_TYPES = [
  'channel.chat.message',
  'channel.chat.notification',
  'channel.follow',
  'channel.ban',
  'channel.channel_points_custom_reward_redemption.add',
  'stream.online',
  'channel.poll.begin',
  'channel.hype_train.progress',
  'channel.prediction.end',
];

interface Seen {
  messageId: string;
  retry: string;
  timestamp: string;
  type: string;
  version: string;
  body: string;
  verified: boolean;
  atMs: number;
}

interface Body {
  subscription: {
    id: string;
    status: string;
    type: string;
    version: string;
    condition: Record<string, string>;
    transport: { method: string; callback: string };
    created_at: string;
    cost: number;
  };
  event: Record<string, unknown>;
}

/** A webhook on 127.0.0.1 that verifies every signature over the raw bytes it received. */
async function receiver(options: { status?: (index: number) => number; delayMs?: number } = {}) {
  const seen: Seen[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const started = performance.now();
  const server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const header = (name: string) => String(req.headers[`twitch-eventsub-${name}`] ?? '');
      const raw = Buffer.concat(chunks);
      const index = seen.length;
      seen.push({
        messageId: header('message-id'),
        retry: header('message-retry'),
        timestamp: header('message-timestamp'),
        type: header('subscription-type'),
        version: header('subscription-version'),
        body: raw.toString('utf8'),
        verified: verifyEventSubSignature(
          SECRET,
          header('message-id'),
          header('message-timestamp'),
          raw,
          header('message-signature'),
        ),
        atMs: performance.now() - started,
      });
      setTimeout(() => {
        // Counted out before answering, so the client can never be seen over its limit.
        inFlight--;
        res.writeHead(options.status?.(index) ?? 204).end();
      }, options.delayMs ?? 2);
    });
  });
  // A port this test run has not used before: see freePort.
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/webhooks/twitch`,
    seen,
    maxInFlight: () => maxInFlight,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Receiver = Awaited<ReturnType<typeof receiver>>;
const countBy = <T>(items: T[], key: (item: T) => string) => {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
};

describe('traffic generator', function () {
  this.timeout(20_000);
  let target: Receiver | undefined;
  afterEach(async () => {
    await target?.close();
    target = undefined;
  });

  it('sends N signed unique events plus exactly the asked duplicates and re-sends', async () => {
    target = await receiver();
    const summary = await runTraffic({
      webhookUrl: target.url,
      secret: SECRET,
      streamers: 5,
      burst: 1000,
      count: 200,
      types: DISTINCT_TYPES,
      duplicateShare: 0.1,
      resendShare: 0.05,
      seed: 7,
      concurrency: 8,
    });
    const { seen } = target;
    assert.deepEqual(
      [summary.unique, summary.duplicates, summary.resends, summary.sent],
      [200, 20, 10, 230],
    );
    assert.equal(seen.length, 230);
    assert.ok(
      seen.every((s) => s.verified),
      'every request verifies',
    );
    assert.equal(summary.accepted, 230);
    assert.deepEqual([summary.errors, summary.rejected], [0, {}]);

    // A duplicate repeats a message id with the same bytes, retry 1 and a fresh signature.
    const byId = countBy(seen, (s) => s.messageId);
    const repeated = [...byId].filter(([, n]) => n > 1);
    assert.equal(repeated.length, 20);
    assert.ok(repeated.every(([, n]) => n === 2));
    for (const [id] of repeated) {
      const [first, again] = seen.filter((s) => s.messageId === id);
      assert.equal(again!.body, first!.body);
      assert.deepEqual([first!.retry, again!.retry], ['0', '1']);
    }
    // A re-send repeats the bytes under a new message id.
    const byBody = countBy(seen, (s) => s.body);
    assert.equal(byBody.size, 200, 'one body per unique event');
    const ids = new Map<string, Set<string>>();
    for (const s of seen) ids.set(s.body, (ids.get(s.body) ?? new Set()).add(s.messageId));
    assert.equal([...ids.values()].filter((set) => set.size === 2).length, 10);

    for (const s of seen) {
      const body = JSON.parse(s.body) as Body;
      assert.equal(JSON.stringify(body), s.body, 'compact JSON');
      assert.deepEqual(Object.keys(body), ['subscription', 'event']);
      assert.deepEqual(Object.keys(body.subscription), [
        'id',
        'status',
        'type',
        'version',
        'condition',
        'transport',
        'created_at',
        'cost',
      ]);
      assert.deepEqual(body.subscription.transport, { method: 'webhook', callback: target.url });
      assert.equal(body.subscription.status, 'enabled');
      assert.deepEqual([s.type, s.version], [body.subscription.type, body.subscription.version]);
      assert.match(s.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/);
      normalizeEvent(body.subscription, body.event, s.timestamp);
    }
    assert.deepEqual(new Set(countBy(seen, (s) => s.type).keys()), new Set(DISTINCT_TYPES));
    assert.equal(
      Object.values(summary.byType).reduce((a, b) => a + b, 0),
      200,
    );
  });

  it('sends a default mix led by chat and follows', async () => {
    target = await receiver();
    const summary = await runTraffic({
      webhookUrl: target.url,
      secret: SECRET,
      streamers: 4,
      burst: 400,
      seed: 11,
    });
    assert.equal(summary.accepted, 400);
    const types = Object.entries(summary.byType).sort(([, a], [, b]) => b - a);
    assert.ok(types.length >= 10, `${types.length} types`);
    assert.deepEqual(
      types.slice(0, 2).map(([type]) => type),
      ['channel.chat.message', 'channel.follow'],
    );
    const conditions = target.seen.map((s) => (JSON.parse(s.body) as Body).subscription.condition);
    assert.ok(conditions.every((c) => Object.values(c).every((v) => /^\d+$/.test(v))));
  });

  it('holds a rate without drifting', async () => {
    target = await receiver();
    const summary = await runTraffic({
      webhookUrl: target.url,
      secret: SECRET,
      streamers: 3,
      rate: 200,
      durationSeconds: 1,
      seed: 1,
    });
    assert.ok(summary.sent >= 160 && summary.sent <= 240, `sent ${summary.sent} in 1 s at 200/s`);
    const firstHalf = target.seen.filter((s) => s.atMs < 500).length;
    assert.ok(
      firstHalf > summary.sent * 0.3 && firstHalf < summary.sent * 0.7,
      `${firstHalf} of ${summary.sent} in the first half second: paced, not bunched`,
    );
    assert.ok(summary.elapsedMs < 1500, `took ${summary.elapsedMs} ms`);
  });

  it('never has more than `concurrency` requests in flight', async () => {
    target = await receiver({ delayMs: 20 });
    const summary = await runTraffic({
      webhookUrl: target.url,
      secret: SECRET,
      streamers: 2,
      burst: 60,
      concurrency: 5,
      duplicateShare: 0.2,
      seed: 3,
    });
    assert.equal(summary.unique, 60);
    assert.equal(target.seen.length, 72);
    assert.equal(target.maxInFlight(), 5);
  });

  it('counts rejected statuses and failed requests', async () => {
    target = await receiver({ status: (i) => (i % 4 === 0 ? 500 : i % 4 === 1 ? 403 : 202) });
    const summary = await runTraffic({
      webhookUrl: target.url,
      secret: SECRET,
      streamers: 1,
      burst: 40,
      seed: 2,
    });
    assert.deepEqual(summary.rejected, { '500': 10, '403': 10 });
    assert.equal(summary.accepted, 20);

    // A port nothing listens on: a fresh server's, closed before any request.
    const closed = await receiver();
    const url = closed.url;
    await closed.close();
    const refused = await runTraffic({ webhookUrl: url, secret: SECRET, streamers: 1, burst: 5 });
    assert.deepEqual([refused.errors, refused.accepted], [5, 0]);
    assert.deepEqual(refused.errorsByCause, { ECONNREFUSED: 5 });
  });

  it('stops when aborted and reports progress on the way', async () => {
    target = await receiver();
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 350);
    const progress: Array<{ sent: number; elapsedMs: number }> = [];
    const summary = await runTraffic({
      webhookUrl: target.url,
      secret: SECRET,
      streamers: 3,
      rate: 100,
      durationSeconds: 30,
      signal: abort.signal,
      progressEveryMs: 100,
      onProgress: (p) => progress.push(p),
    });
    assert.ok(summary.elapsedMs < 1000, `stopped after ${summary.elapsedMs} ms`);
    assert.ok(summary.sent >= 25 && summary.sent <= 45, `sent ${summary.sent}`);
    assert.ok(progress.length >= 2 && progress.length <= 4, `${progress.length} progress reports`);
    for (let i = 1; i < progress.length; i++) {
      assert.ok(progress[i]!.sent >= progress[i - 1]!.sent);
      assert.ok(progress[i]!.elapsedMs - progress[i - 1]!.elapsedMs >= 90);
    }
  });

  it('refuses bad options with every reason at once', async () => {
    const base = { webhookUrl: 'http://127.0.0.1:9/x', secret: SECRET, streamers: 1 };
    await assert.rejects(
      runTraffic({ ...base, streamers: 0, count: 1 }),
      /give a rate .* or a burst.*streamers must be a whole number of at least 1, got 0/,
    );
    await assert.rejects(
      runTraffic({ ...base, rate: 5, count: 1, duplicateShare: 2, resendShare: -1 }),
      /duplicateShare must be a share from 0 to 1, got 2; resendShare must be a share/,
    );
    await assert.rejects(runTraffic({ ...base, rate: 5 }), /the run never ends/);
    await assert.rejects(
      runTraffic({ ...base, burst: 1, types: ['channel.follow', 'channel.nope'] }),
      /unknown types channel\.nope/,
    );
    await assert.rejects(runTraffic({ ...base, burst: 1, secret: 'short' }), /10-100 characters/);
    await assert.rejects(runTraffic({ ...base, burst: 1, webhookUrl: 'nope' }), /http\(s\) URL/);
  });
});

describe('traffic CLI', function () {
  this.timeout(20_000);
  const env = { TWITCH_EVENTSUB_SECRET: SECRET };
  const run = async (argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, env, {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
    });
    return { code, stdout: out.join(''), stderr: err.join('') };
  };

  it('parses the arguments into options, with the secret from the environment', () => {
    const parsed = parseTrafficArgs(
      [
        ...['--url', 'http://127.0.0.1:3000/webhooks/twitch', '--rate', '50', '--duration', '30'],
        ...[
          '--duplicates',
          '0.05',
          '--resends',
          '0.02',
          '--types',
          'channel.follow, channel.cheer',
        ],
        ...['--burst', '10', '--seed', '1', '--json'],
      ],
      env,
    );
    assert.ok(!parsed.help);
    assert.deepEqual(parsed.json, true);
    const o = parsed.options;
    assert.deepEqual(
      [o.secret, o.streamers, o.rate, o.durationSeconds, o.burst, o.seed],
      [SECRET, 10, 50, 30, 10, 1],
    );
    assert.deepEqual([o.duplicateShare, o.resendShare], [0.05, 0.02]);
    assert.deepEqual(o.types, ['channel.follow', 'channel.cheer']);
    assert.deepEqual(parseTrafficArgs(['--help'], {}), { help: true });
  });

  it('says what is wrong with bad arguments', () => {
    const url = ['--url', 'http://x.test/'];
    const bad: Array<[string[], RegExp]> = [
      [['--rate', '5'], /--url is required/],
      [[...url, '--rate', '5'], /--secret or TWITCH_EVENTSUB_SECRET is required/],
      [[...url, '--rate', 'fast', '--secret', SECRET], /--rate must be a number, got "fast"/],
      [[...url, '--secret', SECRET], /give a rate/],
      [[...url, '--secret', SECRET, '--rate', '5', '--duplicates', '3'], /--duplicates must be/],
      [[...url, '--secret', SECRET, '--burst', '5', '--streamers', '0'], /--streamers must be/],
      [
        [...url, '--secret', SECRET, '--rate', '5', '--colour', 'red'],
        /^Unknown option '--colour'$/,
      ],
      [[...url, '--secret', SECRET, 'extra'], /Unexpected argument 'extra'/],
    ];
    for (const [argv, message] of bad) {
      assert.throws(
        () => parseTrafficArgs(argv, {}),
        (error: Error) => {
          assert.ok(error instanceof UsageError, argv.join(' '));
          assert.match(error.message, message);
          assert.doesNotMatch(error.message, /\n/);
          return true;
        },
      );
    }
  });

  it('exits 2 with the usage on bad arguments, 0 on --help', async () => {
    const bad = await run(['--rate', '5']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^usage: node dist\/simulator\/traffic\/cli\.js/);
    assert.match(bad.stderr, /\nerror: --url is required\n$/);
    const help = await run(['--help']);
    assert.deepEqual([help.code, help.stderr], [0, '']);
    assert.match(help.stdout, /--duplicates/);
  });

  it('says in one line why no request got an answer, naming the cause', async () => {
    const closed = await receiver(); // a port nothing listens on
    const url = closed.url;
    await closed.close();
    const port = new URL(url).port;
    const refused = await run(['--url', url, '--burst', '2']);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.equal(
      refused.stderr,
      `error: no request reached ${url}: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
    // A port fetch refuses to use: its TypeError says only "fetch failed".
    const blocked = await run(['--url', 'http://127.0.0.1:9/webhooks/twitch', '--burst', '2']);
    assert.equal(blocked.code, 1);
    assert.equal(blocked.stderr.split('\n').length, 2, blocked.stderr);
    assert.match(
      blocked.stderr,
      /: fetch refuses this port \(a "bad port" of the Fetch standard\)\n$/,
    );
    assert.doesNotMatch(blocked.stderr, /TypeError/);
    const json = await run(['--url', url, '--burst', '2', '--json']);
    const summary = JSON.parse(json.stdout) as TrafficSummary;
    assert.deepEqual(summary.errorsByCause, { ECONNREFUSED: 2 });
    assert.deepEqual(summary.errorDetails, {
      ECONNREFUSED: `connect ECONNREFUSED 127.0.0.1:${port}`,
    });
  });

  it('names each cause in the summary when some requests fail', () => {
    const table = formatSummary({
      sent: 3,
      unique: 3,
      duplicates: 0,
      resends: 0,
      accepted: 1,
      rejected: {},
      errors: 2,
      errorsByCause: { ECONNRESET: 1, TimeoutError: 1 },
      errorDetails: { ECONNRESET: 'read ECONNRESET', TimeoutError: 'no answer within 10 s' },
      elapsedMs: 1000,
      ratePerSecond: 3,
      latencyMs: { p50: 1, p95: 1, p99: 1, max: 1 },
      byType: { 'channel.follow': 3 },
    });
    assert.match(table, /^errors\s+2 {2}read ECONNRESET ×1, no answer within 10 s ×1$/m);
  });

  it('prints a summary and exits 0 when all is accepted, 1 when anything is rejected', async () => {
    target = await receiver({ status: (i) => (i === 3 ? 503 : 204) });
    const ok = await run(['--url', target.url, '--burst', '3', '--seed', '4']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^sent\s+3\s/m);
    assert.match(ok.stdout, /unique events by type/);
    const rejected = await run(['--url', target.url, '--burst', '3', '--json']);
    assert.equal(rejected.code, 1);
    const summary = JSON.parse(rejected.stdout) as { rejected: Record<string, number> };
    assert.deepEqual(summary.rejected, { '503': 1 });
  });

  let target: Receiver | undefined;
  afterEach(async () => {
    await target?.close();
    target = undefined;
  });
});
