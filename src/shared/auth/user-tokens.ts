import type { RedisClient } from '../connections/redis.js';

export interface StoredUserToken {
  accessToken: string;
  refreshToken: string | null;
}

/**
 * Each logged-in user's Twitch token and the sessions it backs. Twitch requires apps that keep
 * a login session to validate the token at start-up and hourly, and to end the sessions of a
 * token that became invalid; this is what makes that possible across web nodes.
 *
 * The keys (token, sessions set, the users set, connect-redis's `<prefix>:sess:<sid>`) lie in
 * different Redis Cluster slots, so no MULTI can span them; they keep the names they had on a
 * single Redis, so a deploy loses nobody's tracking. Each change is instead a sequence of
 * single-key writes, ordered so that a crash between two of them leaves only what the hourly
 * validation cleans up: the users set is always the widest of the three.
 */
export function createUserTokens(redis: RedisClient, prefix: string) {
  const tokenKey = (userId: string) => `${prefix}:user:${userId}:token`;
  const sessionsKey = (userId: string) => `${prefix}:user:${userId}:sessions`;
  const sessionKey = (sessionId: string) => `${prefix}:sess:${sessionId}`;
  const usersKey = `${prefix}:users-with-tokens`;
  return {
    async remember(userId: string, token: StoredUserToken, sessionId: string): Promise<void> {
      // Users set first: a token outside it would never be validated. A user in it without a
      // token (a crash right here) is harmless: validation finds no token and ends the sessions.
      await redis.sadd(usersKey, userId);
      // Then the session, before the token: a session the set does not name could not be ended.
      await redis.sadd(sessionsKey(userId), sessionId);
      await redis.set(tokenKey(userId), JSON.stringify(token));
    },
    async forgetSession(userId: string, sessionId: string): Promise<void> {
      await redis.srem(sessionsKey(userId), sessionId);
    },
    async get(userId: string): Promise<StoredUserToken | null> {
      const json = await redis.get(tokenKey(userId));
      return json ? (JSON.parse(json) as StoredUserToken) : null;
    },
    async update(userId: string, token: StoredUserToken): Promise<void> {
      await redis.set(tokenKey(userId), JSON.stringify(token));
    },
    users: () => redis.smembers(usersKey),
    /** Ends every session of the user (their Redis session records) and forgets the token. */
    async endSessions(userId: string): Promise<number> {
      const sessions = await redis.smembers(sessionsKey(userId));
      // The reverse of remember: sessions, token, then the set entries, the users set last. A
      // crash part way leaves the user in the users set, so the next validation finds no token
      // and finishes the job. One UNLINK per session key: they lie in slots of their own.
      await Promise.all(sessions.map((sid) => redis.unlink(sessionKey(sid))));
      await redis.del(tokenKey(userId));
      // Only the sessions ended here: one a login added meanwhile stays named, so it can be ended.
      if (sessions.length) await redis.srem(sessionsKey(userId), ...sessions);
      // A login that stored a new token meanwhile keeps the user in the set, to be validated.
      if ((await redis.exists(tokenKey(userId))) === 0) await redis.srem(usersKey, userId);
      return sessions.length;
    },
  };
}
export type UserTokens = ReturnType<typeof createUserTokens>;
