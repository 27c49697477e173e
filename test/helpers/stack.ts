import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../../src/shared/connections/redis.js';
import { onCluster, sharedTestCluster } from './topology.js';
import type { RedisCluster } from './redis-cluster.js';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { Queue, type Job, type JobType } from 'bullmq';
import type { StreamEvent } from '../../src/shared/events/event.js';
import { createRealtimeTokens } from '../../src/shared/realtime-token.js';
import {
  QUEUES,
  SHARDED_QUEUES,
  bullPrefix,
  queueShardName,
  type QueueName,
} from '../../src/shared/queues.js';
import type { WatchAck } from '../../src/shared/realtime-protocol.js';
import { DEFAULT_QUEUE_SHARDS } from '../../src/shared/config.js';
import { createTestDatabase } from './database.js';
import { freePort, startProcess, type ProcessType, type RunningProcess } from './processes.js';

import { TEST_REDIS_URL, deleteKeys } from './redis.js';
export { TEST_REDIS_URL };
export const EVENTSUB_SECRET = 'test-eventsub-secret-0123456789';
export const SESSION_SECRET = 'test-session-secret-0123456789-abcdefghijkl';

export interface StackOptions {
  redisUrl?: string;
  /** A Redis Cluster to run on, whatever TEST_REDIS_TOPOLOGY says (the caller stops it). */
  cluster?: RedisCluster;
  env?: Record<string, string>;
  /** Which processes to start; all five by default (two realtime nodes). */
  without?: ProcessType[];
  /** Changes the database URL the processes get, to reach PostgreSQL through a proxy. */
  databaseUrl?: (url: string) => string;
  /** Browsers reach the first realtime node (REALTIME_URL) instead of no realtime at all. */
  realtimeAsPublic?: boolean;
}

export interface Stack {
  env: Record<string, string>;
  prefix: string;
  webUrl: string;
  webhookUrl: string;
  realtimeUrls: string[];
  processes: Map<string, RunningProcess>;
  /** The stack's Redis: a Cluster client under TEST_REDIS_TOPOLOGY=cluster or `cluster`. */
  redis: RedisClient;
  knex: Awaited<ReturnType<typeof createTestDatabase>>['knex'];
  start(name: string): Promise<RunningProcess>;
  /**
   * One more `web` node on the same Redis and database, as a load balancer would spread to;
   * `env` adds to (or, with '', unsets) the stack's variables for that node only.
   */
  startWebNode(name: string, env?: Record<string, string>): Promise<string>;
  /** One more process of `type` (a processor, an emitter...) with `env` added to the stack's. */
  startNode(name: string, type: ProcessType, env?: Record<string, string>): Promise<RunningProcess>;
  /** The port a process listens on (`web`, `realtime1`…, or the health port of a worker), the same across restarts. */
  portOf(name: string): number;
  /** A queue's shards seen as one: counts summed, jobs listed from all of them. */
  queue(name: QueueName): QueueView;
  /** Every shard of a queue, as the stack's processes use them. */
  queues(name: QueueName): Queue[];
  /**
   * A viewer's socket to realtime node `target` (an index) or to a URL. With `reconnect`, it
   * reconnects as the browser does, and watches again with `since` = the last event it got.
   */
  watcher(
    target: number | string,
    userId?: string,
    options?: { reconnect?: boolean },
  ): Promise<Watcher>;
  stop(): Promise<void>;
}

const READY_LINE: Record<ProcessType, RegExp> = {
  web: /web listening/,
  processor: /processor started/,
  emitter: /emitter started/,
  realtime: /realtime listening/,
  release: /$^/,
};

/** A real stack: web, processor, emitter and two realtime nodes on a private prefix and database. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const database = await createTestDatabase();
  const prefix = `t${randomBytes(5).toString('hex')}`;
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const cluster =
    options.cluster ?? (onCluster && !options.redisUrl ? await sharedTestCluster() : undefined);
  const queueShards = Number(
    options.env?.QUEUE_SHARDS ??
      (cluster ? DEFAULT_QUEUE_SHARDS.cluster : DEFAULT_QUEUE_SHARDS.single),
  );
  const redis: RedisClient = cluster
    ? new Cluster(
        cluster.nodes.map(({ port }) => ({ host: '127.0.0.1', port })),
        {
          redisOptions: { maxRetriesPerRequest: null },
        },
      )
    : new Redis(redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined); // outages are the point of some tests; the assertions speak
  const ports = { web: await freePort(), rt1: await freePort(), rt2: await freePort() };
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: options.databaseUrl?.(database.url) ?? database.url,
    ...(cluster ? { REDIS_CLUSTER_NODES: cluster.seedNodes } : { REDIS_URL: redisUrl }),
    REDIS_PREFIX: prefix,
    TWITCH_EVENTSUB_SECRET: EVENTSUB_SECRET,
    SESSION_SECRET,
    PUBLIC_URL: `http://127.0.0.1:${ports.web}`,
    ...(options.realtimeAsPublic ? { REALTIME_URL: `http://127.0.0.1:${ports.rt1}` } : {}),
    JOB_LOCK_MS: '3000',
    SHUTDOWN_TIMEOUT_MS: '10000',
    // Follow waves off: suites and benchmarks that count every follow delivered as an event
    // (exactly once, paging, load) send bursts of them. The wave suites turn them on.
    FOLLOW_WAVE_THRESHOLD: '0',
    ...options.env,
  };
  const plan: Record<
    string,
    { type: ProcessType; port?: number; healthPort?: number; env?: Record<string, string> }
  > = {
    web: { type: 'web', port: ports.web },
    processor: { type: 'processor', healthPort: await freePort() },
    emitter: { type: 'emitter', healthPort: await freePort() },
    realtime1: { type: 'realtime', port: ports.rt1 },
    realtime2: { type: 'realtime', port: ports.rt2 },
  };
  const processes = new Map<string, RunningProcess>();
  const queues = new Map<string, Queue>();
  const sockets: Socket[] = [];
  const tokens = createRealtimeTokens(SESSION_SECRET);

  async function start(name: string): Promise<RunningProcess> {
    const spec = plan[name];
    if (!spec) throw new Error(`No process ${name} in the test stack`);
    const running = startProcess(name, spec.type, {
      ...env,
      ...(spec.port && { PORT: String(spec.port) }),
      ...(spec.healthPort && { HEALTH_PORT: String(spec.healthPort) }),
      ...spec.env,
    });
    processes.set(name, running);
    await running.waitForOutput(READY_LINE[spec.type]);
    return running;
  }

  const stack: Stack = {
    env,
    prefix,
    webUrl: `http://127.0.0.1:${ports.web}`,
    webhookUrl: `http://127.0.0.1:${ports.web}/webhooks/twitch`,
    realtimeUrls: [`http://127.0.0.1:${ports.rt1}`, `http://127.0.0.1:${ports.rt2}`],
    processes,
    redis,
    knex: database.knex,
    start,
    async startWebNode(name, nodeEnv) {
      const port = await freePort();
      plan[name] = { type: 'web', port, env: nodeEnv };
      await start(name);
      return `http://127.0.0.1:${port}`;
    },
    async startNode(name, type, nodeEnv) {
      const listens = type === 'web' || type === 'realtime';
      plan[name] = { type, [listens ? 'port' : 'healthPort']: await freePort(), env: nodeEnv };
      return start(name);
    },
    portOf(name) {
      const port = plan[name]?.port ?? plan[name]?.healthPort;
      if (port === undefined) throw new Error(`${name} has no port in the test stack`);
      return port;
    },
    queue: (name) => queueView(name, stack.queues(name)),
    queues(name) {
      const shards = SHARDED_QUEUES.has(name) ? queueShards : 1;
      return Array.from({ length: shards }, (_, shard) => {
        const bullName = queueShardName(name, shard);
        let queue = queues.get(bullName);
        if (!queue) {
          queue = new Queue(bullName, { connection: redis, prefix: bullPrefix(prefix) });
          queues.set(bullName, queue);
        }
        return queue;
      });
    },
    async watcher(target, userId = 'viewer-1', options = {}) {
      const url = typeof target === 'number' ? stack.realtimeUrls[target] : target;
      const socket = connectSocket(url, {
        // A fresh token for every (re)connection, as the browser fetches one.
        auth: (callback) => void tokens.issue(userId).then((token) => callback({ token })),
        transports: ['websocket'],
        reconnection: options.reconnect ?? false,
        reconnectionDelay: 100,
        reconnectionDelayMax: 1000,
      });
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      return createWatcher(socket);
    },
    async stop() {
      for (const socket of sockets) socket.disconnect();
      await Promise.all([...processes.values()].map((p) => p.stop('SIGTERM')));
      await Promise.all([...queues.values()].map((q) => q.close()));
      await deleteKeys(redis, prefix).catch(() => undefined);
      redis.disconnect();
      await database.drop();
    },
  };
  const names = Object.keys(plan).filter((n) => !options.without?.includes(plan[n]!.type));
  try {
    await Promise.all(names.map(start));
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}

export interface Watcher {
  socket: Socket;
  received: StreamEvent[];
  /** Connections after the first, each followed by a watch with `since`. */
  reconnects: number;
  watch(broadcasterId: string, since?: string): Promise<WatchAck>;
  /** Resolves once `count` events satisfy `filter`; rejects with what arrived after `timeoutMs`. */
  waitFor(
    count: number,
    filter?: (e: StreamEvent) => boolean,
    timeoutMs?: number,
  ): Promise<StreamEvent[]>;
}

function createWatcher(socket: Socket): Watcher {
  const received: StreamEvent[] = [];
  const waiters = new Set<() => void>();
  const watched = new Set<string>();
  const take = (event: StreamEvent) => {
    received.push(event);
    for (const waiter of waiters) waiter();
  };
  socket.on('event', take);
  // As client/live-feed.ts does: after a reconnect, catch up from the newest event held.
  socket.on('connect', () => {
    watcher.reconnects++;
    for (const broadcasterId of watched) {
      const since = received.findLast((e) => e.broadcasterId === broadcasterId)?.id;
      socket
        .timeout(10_000)
        .emit(
          'watch',
          since ? { broadcasterId, since } : { broadcasterId },
          (error: Error | null, ack: WatchAck) => {
            if (!error && ack.ok) ack.backlog.forEach(take);
            else socket.disconnect().connect(); // a failed catch-up: try again, as a reload would
          },
        );
    }
  });
  const watcher: Watcher = {
    socket,
    received,
    reconnects: 0,
    watch(broadcasterId, since) {
      watched.add(broadcasterId);
      return socket
        .timeout(10_000)
        .emitWithAck(
          'watch',
          since ? { broadcasterId, since } : { broadcasterId },
        ) as Promise<WatchAck>;
    },
    waitFor(count, filter = () => true, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const matching = received.filter(filter);
          if (matching.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(matching);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `expected ${count} events, got ${received.filter(filter).length} within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
  return watcher;
}

/** What tests read of a kind of queue, over all its shards. */
export interface QueueView {
  name: QueueName;
  getWaitingCount(): Promise<number>;
  getActiveCount(): Promise<number>;
  getDelayedCount(): Promise<number>;
  getCompletedCount(): Promise<number>;
  getFailedCount(): Promise<number>;
  getJobCounts(...types: JobType[]): Promise<Record<string, number>>;
  getJobs(types: JobType[]): Promise<Job[]>;
  getJob(id: string): Promise<Job | undefined>;
  getFailed(): Promise<Job[]>;
  getWaiting(): Promise<Job[]>;
  getJobSchedulers(): Promise<unknown[]>;
  clean(grace: number, limit: number, type: 'completed' | 'failed'): Promise<string[]>;
}

function queueView(name: QueueName, shards: Queue[]): QueueView {
  const sum = (count: (queue: Queue) => Promise<number>) =>
    Promise.all(shards.map(count)).then((counts) => counts.reduce((a, b) => a + b, 0));
  const all = <T>(list: (queue: Queue) => Promise<T[]>) =>
    Promise.all(shards.map(list)).then((lists) => lists.flat());
  return {
    name,
    getWaitingCount: () => sum((queue) => queue.getWaitingCount()),
    getActiveCount: () => sum((queue) => queue.getActiveCount()),
    getDelayedCount: () => sum((queue) => queue.getDelayedCount()),
    getCompletedCount: () => sum((queue) => queue.getCompletedCount()),
    getFailedCount: () => sum((queue) => queue.getFailedCount()),
    async getJobCounts(...types) {
      const total: Record<string, number> = {};
      for (const counts of await Promise.all(shards.map((q) => q.getJobCounts(...types)))) {
        for (const [state, n] of Object.entries(counts)) total[state] = (total[state] ?? 0) + n;
      }
      return total;
    },
    getJobs: (types) => all((queue) => queue.getJobs(types)),
    async getJob(id) {
      for (const queue of shards) {
        const job = await queue.getJob(id);
        if (job) return job;
      }
      return undefined;
    },
    getFailed: () => all((queue) => queue.getFailed()),
    getWaiting: () => all((queue) => queue.getWaiting()),
    getJobSchedulers: () => all((queue) => queue.getJobSchedulers()),
    clean: (grace, limit, type) => all((queue) => queue.clean(grace, limit, type)),
  };
}

export const countJobs = async (queue: QueueView) =>
  queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
export { QUEUES };
