import session from 'express-session';
import RedisStore from 'connect-redis';
import type { RequestHandler } from 'express';
import type { RedisClient } from '../../shared/connections/redis.js';
import { isCluster } from '../../shared/connections/redis.js';
import { scanKeys } from '../../shared/connections/scan-keys.js';

export const SESSION_COOKIE = 'sf.sid';
export const SESSION_TTL_SECONDS = 30 * 24 * 3600;

/**
 * connect-redis on a single Redis or a Cluster. A request's own session is one key (GET, SET EX,
 * EXPIRE, DEL of one key), which a Cluster routes by itself. The whole-store calls (`all`,
 * `ids`, `length`, `clear`) SCAN one node and MGET/DEL many keys at once: on a Cluster that
 * would see a third of the sessions and fail with CROSSSLOT, so there they scan every master
 * and read or delete key by key.
 */
export function createSessionStore(redis: RedisClient, prefix: string): RedisStore {
  const store = new RedisStore({
    client: redis,
    prefix: `${prefix}:sess:`,
    ttl: SESSION_TTL_SECONDS,
  });
  if (isCluster(redis)) {
    const count = store.scanCount;
    store.client.scanIterator = async function* (match: string) {
      for await (const keys of scanKeys(redis, match, count)) yield* keys;
    };
    store.client.mget = (keys) => Promise.all(keys.map((key) => redis.get(key)));
    store.client.del = async (keys) =>
      (await Promise.all(keys.map((key) => redis.del(key)))).reduce((sum, n) => sum + n, 0);
  }
  return store;
}

/**
 * Sessions live in Redis so that any `web` node serves any viewer. The cookie is HttpOnly and
 * SameSite=Lax always, and Secure when streamfeed is served over HTTPS.
 */
export function sessionMiddleware(options: {
  redis: RedisClient;
  prefix: string;
  secret: string;
  publicUrl: string;
}): RequestHandler {
  return session({
    name: SESSION_COOKIE,
    secret: options.secret,
    store: createSessionStore(options.redis, options.prefix),
    resave: false,
    saveUninitialized: false,
    proxy: true,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: options.publicUrl.startsWith('https://'),
      maxAge: SESSION_TTL_SECONDS * 1000,
    },
  });
}
