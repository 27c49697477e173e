import type { RedisClient } from '../shared/connections/redis.js';

// Forget what left the window, then count `member` once: a streamer this viewer already brought
// in today costs nothing more. Returns { allowed, retryAfterMs, added }.
const RESERVE = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then return { 1, 0, 0 } end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return { 0, tonumber(oldest[2]) + window - now, 0 }
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return { 1, 0, 1 }
`;

type BudgetRedis = RedisClient & {
  reserveNewStreamer(
    key: string,
    now: number,
    windowMs: number,
    max: number,
    member: string,
  ): Promise<[number, number, number]>;
};

export type Reservation =
  { allowed: true; release: () => Promise<void> } | { allowed: false; retryAfterMs: number };

export const NEW_STREAMER_WINDOW_MS = 24 * 3600_000;

/**
 * How many streamers one viewer may bring into streamfeed per rolling 24 hours: streamers whose
 * subscriptions do not exist yet, so that choosing them makes streamfeed create some. Counted in
 * Redis (`<prefix>:favorite:new:<userId>`, one member per streamer), atomically across nodes.
 */
export function createNewStreamerBudget(redis: RedisClient, prefix: string, perDay: number) {
  if (!('reserveNewStreamer' in redis)) {
    redis.defineCommand('reserveNewStreamer', { numberOfKeys: 1, lua: RESERVE });
  }
  const client = redis as BudgetRedis;
  return {
    perDay,
    /** Counts `broadcasterId` against `userId`'s day; `release` gives it back if nothing came of it. */
    async reserve(userId: string, broadcasterId: string): Promise<Reservation> {
      const key = `${prefix}:favorite:new:${userId}`;
      const [allowed, retryAfterMs, added] = await client.reserveNewStreamer(
        key,
        Date.now(),
        NEW_STREAMER_WINDOW_MS,
        perDay,
        broadcasterId,
      );
      if (!allowed) return { allowed: false, retryAfterMs };
      return {
        allowed: true,
        release: async () => {
          if (added) await redis.zrem(key, broadcasterId);
        },
      };
    },
  };
}
export type NewStreamerBudget = ReturnType<typeof createNewStreamerBudget>;
