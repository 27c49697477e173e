import type { RequestHandler } from 'express';
import { helixError } from './helix-errors.js';
import type { SimState, SimToken } from './sim-state.js';

/** Reads the token a Helix handler was called with (set by `requireHelixToken`). */
export const helixToken = (locals: Record<string, unknown>): SimToken => locals.token as SimToken;

/**
 * Helix authentication as Twitch does it: a live Bearer token, and a Client-Id header that
 * matches the token's client. `kind` narrows which tokens the endpoint takes.
 */
export function requireHelixToken(
  state: SimState,
  kind: 'app' | 'user' | 'any' = 'any',
): RequestHandler {
  return (req, res, next) => {
    const token = state.tokenFromHeader(req.headers.authorization);
    if (!token) return helixError(res, 401, 'Invalid OAuth token');
    const clientId = req.headers['client-id'];
    if (clientId !== token.clientId) {
      return helixError(res, 401, 'Client ID and OAuth token do not match');
    }
    if (kind !== 'any' && token.kind !== kind) {
      return helixError(
        res,
        401,
        kind === 'app'
          ? 'Invalid OAuth token: an app access token is required'
          : 'Invalid OAuth token: a user access token is required',
      );
    }
    res.locals.token = token;
    next();
  };
}

type Buckets = Map<string, { points: number; updatedAt: number }>;
const bucketsByState = new WeakMap<SimState, Buckets>();
/** One set of buckets per simulator, so that every Helix endpoint draws on the same bucket. */
function bucketsOf(state: SimState): Buckets {
  let buckets = bucketsByState.get(state);
  if (!buckets) bucketsByState.set(state, (buckets = new Map() as Buckets));
  return buckets;
}

/**
 * Twitch's token bucket: `limit` points, refilled evenly over a minute, one point a request,
 * one bucket per client (and user, for user tokens). Headers on every answer; 429 when empty.
 */
export function helixRateLimit(state: SimState, limit: number): RequestHandler {
  const buckets = bucketsOf(state);
  const refillPerMs = limit / 60_000;
  return (_req, res, next) => {
    const token = helixToken(res.locals);
    const key = `${token.clientId}:${token.userId ?? ''}`;
    const now = state.now();
    const bucket = buckets.get(key) ?? { points: limit, updatedAt: now };
    bucket.points = Math.min(limit, bucket.points + (now - bucket.updatedAt) * refillPerMs);
    bucket.updatedAt = now;
    buckets.set(key, bucket);
    const resetSeconds = Math.ceil((now + ((limit - bucket.points) / refillPerMs || 0)) / 1000);
    res.set('Ratelimit-Limit', String(limit));
    res.set('Ratelimit-Reset', String(resetSeconds));
    if (bucket.points < 1) {
      res.set('Ratelimit-Remaining', '0');
      res.set(
        'Ratelimit-Reset',
        String(Math.ceil((now + (1 - bucket.points) / refillPerMs) / 1000)),
      );
      return helixError(res, 429, 'Too Many Requests');
    }
    bucket.points -= 1;
    res.set('Ratelimit-Remaining', String(Math.floor(bucket.points)));
    next();
  };
}
