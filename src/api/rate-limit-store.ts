import type { RedisClient } from '../shared/connections/redis.js';
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';

// One round trip per request: start the window on the first hit, count the rest.
const INCREMENT = `
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { hits, ttl }
`;

type RateLimitRedis = RedisClient & {
  rateLimitIncrement(key: string, windowMs: number): Promise<[number, number]>;
};

/**
 * A fixed-window counter in Redis, shared by every `web` node. rate-limit-redis does the same,
 * but loads its script once at start-up and stays broken if Redis was not ready then; an
 * ioredis script command falls back from EVALSHA to EVAL by itself, so a restart of Redis or of
 * `web` in any order just works.
 */
export function createRedisRateLimitStore(redis: RedisClient, keyPrefix: string): Store {
  if (!('rateLimitIncrement' in redis)) {
    redis.defineCommand('rateLimitIncrement', { numberOfKeys: 1, lua: INCREMENT });
  }
  const client = redis as RateLimitRedis;
  let windowMs = 60_000;
  return {
    prefix: keyPrefix,
    localKeys: false,
    init(options: Options) {
      windowMs = options.windowMs;
    },
    async increment(key: string): Promise<ClientRateLimitInfo> {
      const [totalHits, ttl] = await client.rateLimitIncrement(keyPrefix + key, windowMs);
      return { totalHits, resetTime: new Date(Date.now() + ttl) };
    },
    async decrement(key: string) {
      await redis.decr(keyPrefix + key);
    },
    async resetKey(key: string) {
      await redis.del(keyPrefix + key);
    },
  };
}
