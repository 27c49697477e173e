/**
 * A bounded soak: steady webhook traffic with duplicates while faults are injected one after
 * another, then a report of what was sent, acknowledged, stored and delivered, lost and doubled.
 * It stops by itself. Run: `npm run soak -- --minutes 3 [--cluster]` (see docs/RELIABILITY.md).
 */
import { parseArgs } from 'node:util';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { EVENTSUB_SECRET, QUEUES, startStack, type Stack, type Watcher } from '../helpers/stack.js';
import { startPrivateRedis } from '../helpers/private-redis.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import {
  startHttpLoadBalancer,
  startLoadBalancer,
  type LoadBalancer,
} from '../helpers/load-balancer.js';
import { followPayload, type TwitchPayload } from '../helpers/twitch.js';
import { sendLikeTwitch, type SendReport } from '../helpers/twitch-sender.js';
import { repoRoot } from '../helpers/processes.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function readOptions() {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '3' },
      rate: { type: 'string', default: '100' },
      streamers: { type: 'string', default: '8' },
      watchers: { type: 'string', default: '4' },
      'fault-every': { type: 'string', default: '15' },
      cluster: { type: 'boolean', default: false },
    },
  });
  const number = (name: keyof typeof values, min: number, max: number) => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value < min || value > max) {
      process.stderr.write(`soak: --${name} must be a number from ${min} to ${max}\n`);
      process.exit(2);
    }
    return value;
  };
  return {
    minutes: number('minutes', 0.5, 60),
    rate: number('rate', 1, 2000),
    streamers: Math.round(number('streamers', 1, 20)),
    watchers: Math.round(number('watchers', 1, 50)),
    faultEverySeconds: number('fault-every', 5, 600),
    cluster: values.cluster,
  };
}

/** The Redis of the rig and its fault: one redis-server, or a 3-master cluster with replicas. */
interface SoakRedis {
  name: string;
  stack: { redisUrl: string } | { cluster: RedisCluster };
  fault(): Promise<void>;
  destroy(): Promise<void>;
}

async function startSoakRedis(onCluster: boolean): Promise<SoakRedis> {
  if (!onCluster) {
    const redis = await startPrivateRedis({ appendfsync: 'everysec' });
    return {
      name: 'Redis SIGKILL, back after 2 s',
      stack: { redisUrl: redis.url },
      async fault() {
        await redis.stop('SIGKILL');
        await sleep(2000);
        await redis.start();
      },
      destroy: () => redis.destroy(),
    };
  }
  const cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1000 });
  let next = 0;
  return {
    name: 'SIGKILL of a Redis Cluster master, replaced after the failover',
    stack: { cluster },
    async fault() {
      // Each time another master: its replica takes over, then it rejoins as that replica's.
      const masters = await cluster.masters();
      const victim = masters[next++ % masters.length]!.port;
      await cluster.kill(victim);
      await cluster.waitUntilHealthy(30_000);
      await cluster.restart(victim);
    },
    destroy: () => cluster.stop(),
  };
}

interface Rig {
  stack: Stack;
  redis: SoakRedis;
  postgres: TcpProxy;
  balancers: LoadBalancer[];
}

const restart = async (stack: Stack, name: string, signal: NodeJS.Signals) => {
  await stack.processes.get(name)!.stop(signal);
  if (signal === 'SIGKILL') await sleep(1000);
  await stack.start(name);
};

/** The faults of issue #5, one at a time, in this order, round and round. */
const FAULTS: Array<[name: string, inject: (rig: Rig) => Promise<void>]> = [
  ['SIGKILL processor', ({ stack }) => restart(stack, 'processor', 'SIGKILL')],
  ['SIGKILL emitter', ({ stack }) => restart(stack, 'emitter', 'SIGKILL')],
  ['SIGKILL web (one of two)', ({ stack }) => restart(stack, 'web', 'SIGKILL')],
  ['SIGKILL realtime1', ({ stack }) => restart(stack, 'realtime1', 'SIGKILL')],
  [
    'PostgreSQL away for 5 s',
    async ({ postgres }) => {
      await postgres.cut();
      await sleep(5000);
      await postgres.restore();
    },
  ],
  ['Redis', ({ redis }) => redis.fault()],
  [
    'rolling SIGTERM restart of every process',
    async ({ stack }) => {
      for (const name of ['web', 'web2', 'processor', 'emitter', 'realtime1', 'realtime2']) {
        await restart(stack, name, 'SIGTERM');
        await sleep(300);
      }
    },
  ],
];

async function startRig(onCluster: boolean): Promise<Rig> {
  const redis = await startSoakRedis(onCluster);
  const postgres = await startTcpProxy(5432);
  const stack = await startStack({
    ...redis.stack,
    // On a cluster, acknowledgements wait for a replica: a failover must lose nothing.
    env: { WEB_DRAIN_MS: '1000', ...(onCluster ? { REDIS_ACK_REPLICAS: '1' } : {}) },
    databaseUrl: (url) => url.replace('127.0.0.1:5432', `127.0.0.1:${postgres.port}`),
  });
  await stack.startWebNode('web2');
  const checks = { healthPath: '/readyz', checkEveryMs: 100 };
  const balancers = [
    await startHttpLoadBalancer([stack.portOf('web'), stack.portOf('web2')], checks),
    await startLoadBalancer([stack.portOf('realtime1'), stack.portOf('realtime2')], checks),
  ];
  return { stack, redis, postgres, balancers };
}

let rig: Rig | undefined;

async function stopRig() {
  if (!rig) return;
  await rig.stack.stop();
  await Promise.all(rig.balancers.map((b) => b.close()));
  await rig.postgres.close();
  await rig.redis.destroy();
}

async function main() {
  const options = readOptions();
  const durationMs = options.minutes * 60_000;
  const streamers = Array.from({ length: options.streamers }, (_, i) => String(9100 + i));
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(
    `soak: ${options.minutes} min at ${options.rate} events/s over ${options.streamers} streamers, ` +
      `${options.watchers} watchers, a fault every ${options.faultEverySeconds} s` +
      (options.cluster ? ', on a 3-master Redis Cluster with a replica each' : ''),
  );

  const active = await startRig(options.cluster);
  rig = active;
  const [webBalancer, realtimeBalancer] = active.balancers as [LoadBalancer, LoadBalancer];
  const watchers: Watcher[] = [];
  for (let i = 0; i < options.watchers; i++) {
    const watcher = await active.stack.watcher(realtimeBalancer.url, `soak-viewer-${i}`, {
      reconnect: true,
    });
    for (const id of streamers) {
      const ack = await watcher.watch(id);
      if (!ack.ok) throw new Error(`watch ${id} refused: ${ack.error}`);
    }
    watchers.push(watcher);
  }

  // One follow per event; every 20th is sent again later under a new message id (Twitch
  // re-sends an event so), and the sender replays every 25th acknowledged message as it was.
  const unique = Math.round((options.rate * durationMs) / 1000 / 1.05);
  const payloads: TwitchPayload[] = [];
  for (let n = 0; n < unique; n++) {
    payloads.push(followPayload(streamers[n % streamers.length]!, String(5_000_000 + n)));
    if (n % 20 === 19) payloads.push(payloads[payloads.length - 10]!);
  }
  const uniqueIds = new Set(payloads.map((p) => p.event!.user_id)).size;

  const faults: Array<{ name: string; atSecond: number; tookMs: number }> = [];
  const startedAt = Date.now();
  let traffic: SendReport | undefined;
  const sending = sendLikeTwitch({
    webhookUrl: `${webBalancer.url}/webhooks/twitch`,
    secret: EVENTSUB_SECRET,
    payloads,
    concurrency: 16,
    ratePerSecond: options.rate,
    timeoutMs: 10_000,
    replayEvery: 25,
  }).then((report) => (traffic = report));

  const progress = setInterval(() => {
    const seconds = Math.round((Date.now() - startedAt) / 1000);
    const delivered = Math.min(...watchers.map((w) => w.received.length));
    log(
      `[${String(seconds).padStart(4)} s] faults ${faults.length}` +
        ` (last: ${faults.at(-1)?.name ?? 'none'}); fewest delivered to a watcher ${delivered}`,
    );
  }, 10_000);

  for (let i = 0; Date.now() - startedAt < durationMs - 15_000; i++) {
    await sleep(options.faultEverySeconds * 1000);
    if (Date.now() - startedAt >= durationMs - 15_000) break;
    const [listed, inject] = FAULTS[i % FAULTS.length]!;
    const name = listed === 'Redis' ? active.redis.name : listed;
    const began = Date.now();
    await inject(active);
    faults.push({
      name,
      atSecond: Math.round((began - startedAt) / 1000),
      tookMs: Date.now() - began,
    });
    log(`  fault: ${name} (${Date.now() - began} ms)`);
  }
  await sending;
  clearInterval(progress);
  const sent = traffic!;
  log(`traffic done after ${Math.round((Date.now() - startedAt) / 1000)} s; settling`);

  // Everything acknowledged must arrive: wait until no watcher's count moves for 10 s.
  let last = -1;
  for (let quiet = 0; quiet < 10;) {
    await sleep(1000);
    const now = watchers.reduce((sum, w) => sum + w.received.length, 0);
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
  const stored = Number(
    (
      await active.stack
        .knex('events')
        .whereIn('broadcaster_id', streamers)
        .count<{ count: string }[]>('* as count')
    )[0]!.count,
  );
  const failedJobs: Record<string, number> = {};
  for (const queue of [QUEUES.callbacks, QUEUES.persist, QUEUES.notifications]) {
    let failed = 0;
    for (const shard of active.stack.queues(queue)) failed += await shard.getFailedCount();
    failedJobs[queue] = failed;
  }
  const perWatcher = watchers.map((w) => {
    const ids = new Set(w.received.map((e) => e.id));
    return {
      received: w.received.length,
      unique: ids.size,
      lost: uniqueIds - ids.size,
      duplicated: w.received.length - ids.size,
      reconnects: w.reconnects,
    };
  });
  const report = {
    options,
    seconds: Math.round((Date.now() - startedAt) / 1000),
    faults,
    webhooks: {
      messages: payloads.length,
      uniqueEvents: uniqueIds,
      resentUnderNewId: payloads.length - uniqueIds,
      replayedSameId: sent.replayed,
      acknowledged: sent.acknowledged,
      answers: Object.fromEntries(sent.statuses),
      unanswered: sent.unanswered.length,
    },
    stored,
    storedLost: Math.max(0, uniqueIds - stored),
    storedDuplicated: Math.max(0, stored - uniqueIds),
    perWatcher,
    failedJobs,
  };
  const lost = Math.max(report.storedLost, ...perWatcher.map((w) => w.lost));
  const duplicated = Math.max(report.storedDuplicated, ...perWatcher.map((w) => w.duplicated));

  log('\n=== soak report ===');
  log(`ran ${report.seconds} s; ${faults.length} faults:`);
  for (const f of faults) log(`  at ${f.atSecond} s: ${f.name} (${f.tookMs} ms)`);
  log(
    `webhook messages ${payloads.length} (unique events ${uniqueIds}, re-sent under a new id ` +
      `${report.webhooks.resentUnderNewId}), replayed under the same id ${sent.replayed}`,
  );
  log(
    `acknowledged ${sent.acknowledged}; answers by status ${JSON.stringify(report.webhooks.answers)}; ` +
      `attempts without an answer ${sent.unanswered.length}`,
  );
  log(`stored ${stored} (expected ${uniqueIds})`);
  perWatcher.forEach((w, i) =>
    log(
      `watcher ${i}: delivered ${w.received} (unique ${w.unique}), lost ${w.lost}, ` +
        `duplicated ${w.duplicated}, reconnects ${w.reconnects}`,
    ),
  );
  log(`failed jobs ${JSON.stringify(failedJobs)}`);
  log(`LOST ${lost}  DUPLICATED ${duplicated}`);
  const dir = path.join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ ...report, lost, duplicated }, null, 2));
  log(`report written to ${path.relative(repoRoot, file)}`);

  await stopRig();
  process.exit(lost === 0 && duplicated === 0 ? 0 : 1);
}

main().catch(async (error: unknown) => {
  process.stderr.write(`soak failed: ${(error as Error).stack ?? String(error)}\n`);
  await stopRig().catch(() => undefined);
  process.exit(1);
});
