/**
 * What msgpackr-extract (msgpackr's native string decoder) is worth to streamfeed:
 *
 *   node --import tsx bench/msgpackr-extract.ts [--rounds 7] [--ms 400]
 *
 * Runs the same workloads in child processes with the native decoder and without it
 * (`MSGPACKR_NATIVE_ACCELERATION_DISABLED=true`, which is what a missing build amounts to),
 * alternating, and prints the median ns per operation of each. BullMQ is msgpackr's only user
 * here, and it only packs (its Lua scripts unpack with Redis's cmsgpack); the native module is
 * used by `unpack` alone, which is measured too, to show where it would matter.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isNativeAccelerationEnabled, Packr } from 'msgpackr';
import { DEFAULT_JOB_OPTIONS } from '../src/shared/queues.js';

const WORKLOADS = ['bullmq add-job pack', 'callback job pack', 'callback job unpack'] as const;
type Figures = Record<(typeof WORKLOADS)[number], number>;

/** An EventSub callback job as the intake queues it (a channel.follow notification). */
function callbackJob(i: number) {
  const body = JSON.stringify({
    subscription: {
      id: `f1c2a387-161a-49f9-a165-0f21d7a4e1c${i % 10}`,
      type: 'channel.follow',
      version: '2',
      status: 'enabled',
      cost: 0,
      condition: { broadcaster_user_id: '1337', moderator_user_id: '1337' },
      transport: { method: 'webhook', callback: 'https://example.com/webhooks/twitch' },
      created_at: '2026-12-01T22:00:00.000Z',
    },
    event: {
      user_id: `${1000 + i}`,
      user_login: `viewer_${i}`,
      user_name: `Viewer_${i} 観客`,
      broadcaster_user_id: '1337',
      broadcaster_user_login: 'demo_pixel',
      broadcaster_user_name: 'Demo_Pixel',
      followed_at: '2026-12-01T22:00:00.000Z',
    },
  });
  return {
    messageId: `e76c6bd4-55c9-4987-8304-da1588d8${String(i).padStart(4, '0')}`,
    messageType: 'notification',
    messageTimestamp: '2026-12-01T22:00:00.000Z',
    messageRetry: null,
    subscriptionType: 'channel.follow',
    subscriptionVersion: '2',
    body,
    receivedAt: 1_796_162_400_000 + i,
  };
}

/** ns per call of `fn`, run for about `ms` milliseconds after a warm-up. */
function nsPerOp(fn: (i: number) => unknown, ms: number): number {
  for (let i = 0; i < 20_000; i++) fn(i);
  let calls = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < until) {
    for (let i = 0; i < 1000; i++) fn(calls + i);
    calls += 1000;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / calls;
}

function measure(ms: number): Figures & { native: boolean } {
  // BullMQ's own packer (redis-queue-backend.js), fed the args and options of one queue.add().
  const bullmq = new Packr({ useRecords: false, encodeUndefinedAsNil: true });
  const opts = { ...DEFAULT_JOB_OPTIONS, jobId: 'e76c6bd4-55c9-4987-8304-da1588d80001' };
  const addJob = (i: number) => {
    const args = ['sf:callbacks:', `id-${i}`, 'eventsub-callback', Date.now(), null, null];
    return bullmq.pack(args).length + bullmq.pack(opts).length;
  };
  const jobs = Array.from({ length: 1000 }, (_, i) => callbackJob(i));
  const packed = jobs.map((job) => bullmq.pack(job));
  return {
    native: isNativeAccelerationEnabled,
    'bullmq add-job pack': nsPerOp(addJob, ms),
    'callback job pack': nsPerOp((i) => bullmq.pack(jobs[i % 1000]!).length, ms),
    'callback job unpack': nsPerOp((i) => bullmq.unpack(packed[i % 1000]!) as unknown, ms),
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const { values } = parseArgs({
  options: {
    child: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '7' },
    ms: { type: 'string', default: '400' },
  },
});
const ms = Number(values.ms);
if (values.child) {
  process.stdout.write(JSON.stringify(measure(ms)));
} else {
  const self = fileURLToPath(import.meta.url);
  const runs: Record<'with' | 'without', Figures[]> = { with: [], without: [] };
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const variant of round % 2
      ? (['without', 'with'] as const)
      : (['with', 'without'] as const)) {
      const env = {
        ...process.env,
        MSGPACKR_NATIVE_ACCELERATION_DISABLED: String(variant === 'without'),
      };
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', self, '--child', '--ms', String(ms)],
        {
          env,
          encoding: 'utf8',
        },
      );
      const figures = JSON.parse(out) as Figures & { native: boolean };
      if (figures.native !== (variant === 'with')) {
        throw new Error(
          `native decoder ${figures.native ? 'loaded' : 'missing'} in the "${variant}" run`,
        );
      }
      runs[variant].push(figures);
    }
  }
  const fmt = (xs: number[]) =>
    `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
  process.stdout.write(
    `msgpackr-extract: ns per operation, median (min-max) of ${values.rounds} runs each\n`,
  );
  process.stdout.write(
    `${'workload'.padEnd(22)} ${'with native'.padStart(18)} ${'without'.padStart(18)}  ratio\n`,
  );
  for (const workload of WORKLOADS) {
    const a = runs.with.map((f) => f[workload]);
    const b = runs.without.map((f) => f[workload]);
    const ratio = (median(b) / median(a)).toFixed(2);
    process.stdout.write(
      `${workload.padEnd(22)} ${fmt(a).padStart(18)} ${fmt(b).padStart(18)}  ${ratio}\n`,
    );
  }
}
