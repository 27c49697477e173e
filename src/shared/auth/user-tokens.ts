import type { RedisClient } from '../connections/redis.js';

export interface StoredUserToken {
  accessToken: string;
  refreshToken: string | null;
}

/**
 * Each logged-in user's Twitch token and the sessions it backs. Twitch requires apps that keep
 * a login session to validate the token at start-up and hourly, and to end the sessions of a
 * token that became invalid; this is what makes that possible across web nodes.
 */
export function createUserTokens(redis: RedisClient, prefix: string) {
  const tokenKey = (userId: string) => `${prefix}:user:${userId}:token`;
  const sessionsKey = (userId: string) => `${prefix}:user:${userId}:sessions`;
  const usersKey = `${prefix}:users-with-tokens`;
  return {
    async remember(userId: string, token: StoredUserToken, sessionId: string): Promise<void> {
      await redis
        .multi()
        .set(tokenKey(userId), JSON.stringify(token))
        .sadd(sessionsKey(userId), sessionId)
        .sadd(usersKey, userId)
        .exec();
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
      await redis
        .multi()
        .del(
          ...sessions.map((sid) => `${prefix}:sess:${sid}`),
          tokenKey(userId),
          sessionsKey(userId),
        )
        .srem(usersKey, userId)
        .exec();
      return sessions.length;
    },
  };
}
export type UserTokens = ReturnType<typeof createUserTokens>;
