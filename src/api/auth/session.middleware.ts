import session from 'express-session';
import RedisStore from 'connect-redis';
import type { RedisClient } from '../../shared/connections/redis.js';
import type { RequestHandler } from 'express';

export const SESSION_COOKIE = 'sf.sid';
export const SESSION_TTL_SECONDS = 30 * 24 * 3600;

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
    store: new RedisStore({
      client: options.redis,
      prefix: `${options.prefix}:sess:`,
      ttl: SESSION_TTL_SECONDS,
    }),
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
