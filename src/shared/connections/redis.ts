import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';

/** A single Redis or a Redis Cluster (REDIS_CLUSTER_NODES): the code that uses one takes either. */
export type RedisClient = Redis | Cluster;

/**
 * `blocking`: BullMQ workers and pub/sub subscribers, which must wait for Redis forever.
 * `command`: producers and request paths, which must fail fast so that callers can answer 503
 * instead of hanging while Redis is away.
 */
export type RedisRole = 'blocking' | 'command';

/** Errors a createRedis client has reported; BullMQ hands the same objects to its queues. */
const connectionErrors = new WeakSet<Error>();

export function createRedis(
  url: string,
  name: string,
  role: RedisRole,
  log: Logger,
  extra: Partial<RedisOptions> = {},
): Redis {
  const options: RedisOptions = {
    connectionName: `streamfeed:${name}`,
    ...(role === 'blocking'
      ? { maxRetriesPerRequest: null }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 }),
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    ...extra,
  };
  const redis = new Redis(url, options);
  let lastError = '';
  redis.on('error', (error: Error) => {
    connectionErrors.add(error);
    // ioredis repeats the same error on every reconnect attempt; say it once.
    if (error.message === lastError) return;
    lastError = error.message;
    log.warn({ err: error, redis: name }, `Redis connection ${name} failed: ${error.message}`);
  });
  redis.on('ready', () => {
    if (lastError) log.info({ redis: name }, `Redis connection ${name} is back`);
    lastError = '';
  });
  return redis;
}

/** Resolves once the client is ready, or rejects after `timeoutMs` with a readable cause. */
export async function waitForRedis(redis: Redis, name: string, timeoutMs = 10_000): Promise<void> {
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
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  await redis.quit().then(
    () => undefined,
    () => redis.disconnect(),
  );
}
