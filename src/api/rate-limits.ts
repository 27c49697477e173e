import { rateLimit, type Options, type RateLimitRequestHandler } from 'express-rate-limit';
import type { Request } from 'express';
import type { RedisClient } from '../shared/connections/redis.js';
import type { Logger } from '../shared/logger.js';
import { createRedisRateLimitStore } from './rate-limit-store.js';

interface LimiterBase {
  redis: RedisClient;
  redisPrefix: string;
  windowSeconds: number;
  log: Logger;
}

export interface RateLimitOptions extends LimiterBase {
  /** Requests per client and window to `/auth/*` (login starts and callbacks). */
  authMax: number;
  /** Requests per client and window to `/api/*`. */
  apiMax: number;
}

/** express-rate-limit on the shared Redis store, with what every limit here has in common. */
function redisRateLimit(
  base: LimiterBase,
  scope: string,
  options: Partial<Options>,
): RateLimitRequestHandler {
  return rateLimit({
    windowMs: base.windowSeconds * 1000,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: scope,
    store: createRedisRateLimitStore(base.redis, `${base.redisPrefix}:ratelimit:${scope}:`),
    // Redis away: sessions fail on their own; the limiter should not add a second failure.
    passOnStoreError: true,
    // Its own warnings as JSON log lines, not raw console output.
    logger: base.log,
    ...options,
  });
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
    redisRateLimit(options, scope, {
      limit,
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

export interface FavoriteRateLimitOptions extends LimiterBase {
  /** Favourite changes per viewer and window, whatever their address. */
  max: number;
}

const FAVORITE_RATE_LIMIT_PROPERTY = 'favoriteRateLimit';
const favoriteInfo = (req: Request) =>
  (req as unknown as Record<string, { used: number } | undefined>)[FAVORITE_RATE_LIMIT_PROPERTY];

/** This viewer's favourite changes in the current window, this one included (1 if not counted). */
export const favoriteChangesInWindow = (req: Request): number => favoriteInfo(req)?.used ?? 1;

/**
 * Per-viewer limit on `PUT /api/me/favorite`, counted in Redis across `web` nodes. Each change
 * may make streamfeed look up a streamer and queue subscriptions, so it is bounded per account,
 * not only per address. Mount it after `requireUser`.
 */
export function createFavoriteRateLimit(
  options: FavoriteRateLimitOptions,
): RateLimitRequestHandler {
  const { max, windowSeconds } = options;
  return redisRateLimit(options, 'favorite', {
    limit: max,
    requestPropertyName: FAVORITE_RATE_LIMIT_PROPERTY,
    keyGenerator: (req) => req.user!.id,
    handler: (req, res, _next, used) => {
      if (favoriteInfo(req)?.used === max + 1) {
        options.log.warn(
          { scope: 'api', userId: req.user!.id },
          `rate limit: viewer ${req.user!.id} changed their favourite over ${max} times in ${windowSeconds} s`,
        );
      }
      res.status(used.statusCode).json({
        error: {
          code: 'rate_limited',
          message: `Too many favourite changes; at most ${max} per ${windowSeconds} s. Your favourite is unchanged; retry after the time in the Retry-After header.`,
        },
      });
    },
  });
}
