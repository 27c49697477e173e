import { rateLimit, type RateLimitRequestHandler } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logger.js';
import { createRedisRateLimitStore } from './rate-limit-store.js';

export interface RateLimitOptions {
  redis: Redis;
  redisPrefix: string;
  windowSeconds: number;
  /** Requests per client and window to `/auth/*` (login starts and callbacks). */
  authMax: number;
  /** Requests per client and window to `/api/*`. */
  apiMax: number;
  log: Logger;
}

/**
 * Per-client limits on `/auth/*` and `/api/*`, counted in Redis so that they hold however many
 * `web` nodes share the load. A client is its IP address (`req.ip`: the connecting address, or
 * the one TRUST_PROXY lets `web` read from X-Forwarded-For), with IPv6 clients counted per /56
 * as express-rate-limit does.
 */
export function createRateLimits(options: RateLimitOptions): {
  auth: RateLimitRequestHandler;
  api: RateLimitRequestHandler;
} {
  const limiter = (scope: 'auth' | 'api', limit: number) =>
    rateLimit({
      windowMs: options.windowSeconds * 1000,
      limit,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      identifier: scope,
      store: createRedisRateLimitStore(options.redis, `${options.redisPrefix}:ratelimit:${scope}:`),
      // Redis away: sessions fail on their own; the limiter should not add a second failure.
      passOnStoreError: true,
      // Its own warnings as JSON log lines, not raw console output.
      logger: options.log,
      handler: (req, res, _next, used) => {
        // One line per client and window, not one per refused request.
        if ((req as { rateLimit?: { used: number } }).rateLimit?.used === limit + 1) {
          options.log.warn(
            { scope, ip: req.ip, path: req.path },
            `rate limit: ${req.ip} went over ${limit} requests to /${scope} in ${options.windowSeconds} s`,
          );
        }
        res.status(used.statusCode).json({
          error: {
            code: 'rate_limited',
            message: `Too many requests; at most ${limit} per ${options.windowSeconds} s. Retry after the time in the Retry-After header.`,
          },
        });
      },
    });
  return { auth: limiter('auth', options.authMax), api: limiter('api', options.apiMax) };
}
