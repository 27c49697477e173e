import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config.js';
import type { Logger } from '../logger.js';

/** A single Redis or a Redis Cluster (REDIS_CLUSTER_NODES): the code that uses one takes either. */
export type RedisClient = Redis | Cluster;

/**
 * Whether a client is a Cluster. By ioredis's own flag rather than instanceof, which fails for a
 * Cluster made by another copy of ioredis (a dependency's own, say).
 */
export const isCluster = (redis: RedisClient): redis is Cluster => redis.isCluster;

/**
 * `blocking`: BullMQ workers, which must wait for Redis forever.
 * `subscriber`: pub/sub, which waits forever too; on a cluster it holds a sharded subscriber per
 * master (SSUBSCRIBE), so that a publish reaches only the shard that owns the channel.
 * `command`: producers and request paths, which must fail fast so that callers can answer 503
 * instead of hanging while Redis is away.
 */
export type RedisRole = 'blocking' | 'subscriber' | 'command';

/** Where to connect: the `redis` part of the config. */
export type RedisTarget = Pick<RedisConfig, 'url' | 'cluster'>;

/** Errors a createRedis client has reported; BullMQ hands the same objects to its queues. */
const connectionErrors = new WeakSet<Error>();

const retryStrategy = (attempt: number) => Math.min(attempt * 200, 2000);

function roleOptions(role: RedisRole): RedisOptions {
  return role === 'command'
    ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 }
    : { maxRetriesPerRequest: null };
}

/**
 * A client on the single Redis of `REDIS_URL`, or on the Redis Cluster of `REDIS_CLUSTER_NODES`.
 * `extra` is for a single Redis's options, and those a Cluster takes as its own too
 * (`enableAutoPipelining`).
 */
export function createRedis(
  target: RedisTarget,
  name: string,
  role: RedisRole,
  log: Logger,
  extra: Partial<RedisOptions> = {},
): RedisClient {
  const base: RedisOptions = {
    connectionName: `streamfeed:${name}`,
    ...roleOptions(role),
    retryStrategy,
  };
  const redis = target.cluster
    ? createCluster(target.cluster, base, role, extra)
    : new Redis(target.url, { ...base, ...extra });
  let lastError = '';
  const say = (error: Error) => {
    connectionErrors.add(error);
    // ioredis repeats the same error on every reconnect attempt; say it once.
    if (error.message === lastError) return;
    lastError = error.message;
    log.warn({ err: error, redis: name }, `Redis connection ${name} failed: ${error.message}`);
  };
  redis.on('error', say);
  // A Cluster reports each node's own trouble apart from its own.
  if (target.cluster) redis.on('node error', say);
  redis.on('ready', () => {
    if (lastError) log.info({ redis: name }, `Redis connection ${name} is back`);
    lastError = '';
  });
  return redis;
}

function createCluster(
  cluster: NonNullable<RedisConfig['cluster']>,
  base: RedisOptions,
  role: RedisRole,
  extra: Partial<RedisOptions>,
): Cluster {
  const { enableAutoPipelining, ...nodeExtra } = extra;
  return new Cluster(
    cluster.nodes.map(({ host, port }) => ({ host, port })),
    {
      redisOptions: {
        ...base,
        ...nodeExtra,
        ...(cluster.tls ? { tls: {} } : {}),
        ...(cluster.username ? { username: cluster.username } : {}),
        ...(cluster.password ? { password: cluster.password } : {}),
      },
      // ElastiCache's TLS certificates name the node's host name, which the cluster's slot map
      // replaces with an IP address unless the name is kept (ioredis's README, "Special note").
      ...(cluster.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
      enableOfflineQueue: role !== 'command',
      clusterRetryStrategy: retryStrategy,
      // Writes and reads alike go to masters: streamfeed reads what it just wrote.
      scaleReads: 'master',
      slotsRefreshTimeout: 2000,
      shardedSubscribers: role === 'subscriber',
      ...(enableAutoPipelining ? { enableAutoPipelining } : {}),
    },
  );
}

/** Resolves once the client is ready, or rejects after `timeoutMs` with a readable cause. */
export async function waitForRedis(
  redis: RedisClient,
  name: string,
  timeoutMs = 10_000,
): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis (${name}) did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

interface ErrorSource {
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * Logs the errors of a BullMQ Queue (or any emitter on a createRedis client) as JSON lines.
 * Without a listener BullMQ prints each one as a raw stack trace. An error of the connection
 * itself was already said once by createRedis, however many queues share it; the same message
 * again within a minute is left out too.
 */
export function reportErrors<T extends ErrorSource>(source: T, name: string, log: Logger): T {
  let last = '';
  let lastAt = 0;
  source.on('error', (error) => {
    if (connectionErrors.has(error)) return;
    if (error.message === last && Date.now() - lastAt < 60_000) return;
    last = error.message;
    lastAt = Date.now();
    log.warn({ err: error, source: name }, `${name}: ${error.message}`);
  });
  return source;
}

/**
 * Ends a client for shutdown: QUIT when connected, so replies in flight arrive first; otherwise
 * at once, because a client with an offline queue would hold QUIT until Redis came back.
 */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  await redis.quit().then(
    () => undefined,
    () => redis.disconnect(),
  );
}
