import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';

/**
 * `blocking`: BullMQ workers and pub/sub subscribers, which must wait for Redis forever.
 * `command`: producers and request paths, which must fail fast so that callers can answer 503
 * instead of hanging while Redis is away.
 */
export type RedisRole = 'blocking' | 'command';

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
