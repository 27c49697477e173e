import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { EVENTSUB_SECRET, startStack, type Stack, type Watcher } from './stack.js';
import { followPayload } from './twitch.js';
import { sendLikeTwitch, type SendReport } from './twitch-sender.js';
import { startRedisCluster, type RedisCluster } from './redis-cluster.js';
import { QUEUES, queueShardName } from '../../src/shared/queues.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface FailoverRun {
  report: SendReport;
  total: number;
  /** Events each watcher got, as unique ids and as deliveries. */
  watchers: { unique: number; deliveries: number }[];
  /** Acknowledged events not in PostgreSQL once the pipeline is idle. */
  lostFromStore: number;
  /** Acknowledged events no watcher got. */
  lostLive: number;
  storedTwice: number;
  killedPort: number;
  /** How long after the SIGKILL the replica had the slots (cluster_state:ok again). */
  failoverMs: number;
  /** How long after it the restarted node was in sync as the new master's replica. */
  replacedMs: number;
  /** Acknowledgements so far when the disruption was over: below `total` if it was mid-stream. */
  overAtAcknowledged: number;
}

/** Until the node on `port` is a replica whose link to its master is up. */
async function untilReplicated(port: number): Promise<void> {
  const node = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  node.on('error', () => undefined);
  try {
    for (let i = 0; i < 300; i++) {
      const info = await node.info('replication').catch(() => '');
      if (/role:slave/.test(info) && /master_link_status:up/.test(info)) return;
      await sleep(100);
    }
    throw new Error(`node ${port} did not rejoin as a replica`);
  } finally {
    node.disconnect();
  }
}

/**
 * A steady stream of follows over 12 streamers, and, at the 300th acknowledgement, a SIGKILL of
 * the master that holds the first callback queue (its replica takes over). Twitch's side retries
 * whatever was not acknowledged, as Twitch does. Returns what was stored and delivered.
 */
export async function runFailover(options: {
  ackReplicas: number;
  total?: number;
  rate?: number;
  /** Instead of the SIGKILL: what to do to the cluster at the 300th acknowledgement. */
  disrupt?: (cluster: RedisCluster, victim: number, streamers: string[]) => Promise<void>;
}): Promise<FailoverRun> {
  const total = options.total ?? 1500;
  const streamers = Array.from({ length: 12 }, (_, i) => String(9301 + i));
  const cluster: RedisCluster = await startRedisCluster({
    masters: 3,
    replicas: 1,
    nodeTimeoutMs: 1000,
  });
  let stack: Stack | undefined;
  try {
    stack = await startStack({
      cluster,
      env: {
        REDIS_ACK_REPLICAS: String(options.ackReplicas),
        REDIS_ACK_TIMEOUT_MS: '500',
        JOB_LOCK_MS: '3000',
      },
    });
    const watchers: Watcher[] = [];
    for (let i = 0; i < 2; i++) {
      const watcher = await stack.watcher(i, `viewer-${i}`, { reconnect: true });
      for (const id of streamers) await watcher.watch(id);
      watchers.push(watcher);
    }
    const victim = await masterOf(cluster, queueShardName(QUEUES.callbacks, 0));
    let killedAt = 0;
    let failoverMs = 0;
    let replacedMs = 0;
    let acknowledged = 0;
    let overAtAcknowledged = 0;
    let failover: Promise<void> | undefined;
    const report = await sendLikeTwitch({
      webhookUrl: stack.webhookUrl,
      secret: EVENTSUB_SECRET,
      payloads: Array.from({ length: total }, (_, n) =>
        followPayload(
          streamers[n % streamers.length]!,
          String(930000 + n),
          new Date(Date.UTC(2026, 10, 2) + n * 1000),
        ),
      ),
      concurrency: 8,
      ratePerSecond: options.rate ?? 100,
      timeoutMs: 5000,
      onAcknowledged: (count) => {
        acknowledged = count;
        if (count !== 300) return;
        failover = (async () => {
          killedAt = Date.now();
          if (options.disrupt) {
            await options.disrupt(cluster, victim, streamers);
            failoverMs = Date.now() - killedAt;
            overAtAcknowledged = acknowledged;
            return;
          }
          await cluster.kill(victim);
          await cluster.waitUntilHealthy(30_000);
          failoverMs = Date.now() - killedAt;
          overAtAcknowledged = acknowledged;
          // The crashed host comes back (as a managed service replaces a node) and rejoins as
          // the replica of the master that took its slots: until then, that master has none.
          await cluster.restart(victim);
          await untilReplicated(victim);
          replacedMs = Date.now() - killedAt;
        })();
      },
    });
    await failover;
    await waitForIdle(stack);
    const ids = new Set<string>();
    const stored = await stack
      .knex('events')
      .whereIn('broadcaster_id', streamers)
      .select<{ id: string }[]>('id');
    for (const row of stored) ids.add(row.id);
    const storedTwice = stored.length - ids.size;
    const liveIds = new Set(watchers.flatMap((w) => w.received.map((e) => e.id)));
    return {
      report,
      total,
      watchers: watchers.map((w) => ({
        unique: new Set(w.received.map((e) => e.id)).size,
        deliveries: w.received.length,
      })),
      lostFromStore: total - ids.size,
      lostLive: total - liveIds.size,
      storedTwice,
      killedPort: victim,
      failoverMs,
      replacedMs,
      overAtAcknowledged,
    };
  } finally {
    await stack?.stop();
    await cluster.stop();
  }
}

/** The port of the master that owns `key`'s slot now. */
async function masterOf(cluster: RedisCluster, key: string): Promise<number> {
  const seed = new Redis({ port: cluster.nodes[0]!.port, host: '127.0.0.1' });
  try {
    const slot = calculateSlot(key);
    const ranges = (await seed.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    return ranges.find(([from, to]) => slot >= from && slot <= to)![2][1];
  } finally {
    seed.disconnect();
  }
}

/** Until no queue of the pipeline has work left, and a little longer for the last deliveries. */
async function waitForIdle(stack: Stack): Promise<void> {
  const kinds = [QUEUES.callbacks, QUEUES.persist, QUEUES.notifications];
  for (let i = 0; i < 600; i++) {
    let left = 0;
    for (const kind of kinds) {
      const counts = await stack
        .queue(kind)
        .getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      left += Object.values(counts).reduce((a, b) => a + b, 0);
    }
    if (left === 0) break;
    await sleep(100);
  }
  await sleep(3000);
}

/**
 * Moves slots of the master on `from` to another master with `redis-cli --cluster reshard`, keys
 * and all, as an operator adding or draining a shard does: its lowest slots, as many as it takes
 * for the first callback queue's slot and the feed of the first of `streamers` that it holds to
 * go too (moving all 5,461 took 5 to 28 s here, longer than a test's stream).
 */
export async function reshardAway(
  cluster: RedisCluster,
  from: number,
  streamers: string[],
): Promise<void> {
  const masters = await cluster.masters();
  const target = masters.find((master) => master.port !== from)!;
  const seed = new Redis({ port: from, host: '127.0.0.1' });
  let ids: [string, string];
  let slots: number;
  try {
    const ranges = (await seed.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const owned = ranges.filter((range) => range[2][1] === from).map(([a, b]) => [a, b]);
    const lowest = Math.min(...owned.map(([a]) => a!));
    const ownedSlot = (key: string) => {
      const slot = calculateSlot(key);
      return owned.some(([a, b]) => slot >= a! && slot <= b!) ? slot : undefined;
    };
    const queueSlot = ownedSlot(queueShardName(QUEUES.callbacks, 0));
    const feedSlots = streamers.map((id) => ownedSlot(`{${id}}`)).filter((s) => s !== undefined);
    if (queueSlot === undefined || feedSlots.length === 0) {
      throw new Error(`master ${from} holds no callback queue or no watched feed to move`);
    }
    slots = Math.max(queueSlot, Math.min(...feedSlots)) - lowest + 1;
    const idOf = async (port: number) => {
      const node = new Redis({ port, host: '127.0.0.1' });
      try {
        return (await node.call('CLUSTER', 'MYID')) as string;
      } finally {
        node.disconnect();
      }
    };
    ids = [await idOf(from), await idOf(target.port)];
  } finally {
    seed.disconnect();
  }
  await run('redis-cli', [
    ...['--cluster', 'reshard', `127.0.0.1:${from}`],
    ...['--cluster-from', ids[0], '--cluster-to', ids[1]],
    ...['--cluster-slots', String(slots), '--cluster-yes'],
  ]);
  await cluster.waitUntilHealthy(30_000);
}
