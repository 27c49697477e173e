import type { Request, RequestHandler } from 'express';
import { forbidden } from '../errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The origin of a Referer, or 'null' when it is not a URL (so it matches nothing). */
function refererOrigin(referer: string): string {
  try {
    return new URL(referer).origin;
  } catch {
    return 'null';
  }
}

/**
 * Where a browser says a request comes from: its `Origin`, else its `Sec-Fetch-Site` (which
 * browsers send even where they leave out Origin), else the Referer's origin. Undefined when it
 * carries none of them: not a browser, so not a cross-site request riding on a viewer's cookie.
 */
function claimedSource(req: Request, ownOrigin: string): 'same' | 'other' | undefined {
  const origin = req.headers.origin;
  if (origin !== undefined) return origin.toLowerCase() === ownOrigin ? 'same' : 'other';
  const site = req.headers['sec-fetch-site'];
  // 'none': the user's own action (typed, bookmarked), which no other site can make.
  if (site !== undefined) return site === 'same-origin' || site === 'none' ? 'same' : 'other';
  const referer = req.headers.referer;
  if (referer !== undefined) return refererOrigin(referer) === ownOrigin ? 'same' : 'other';
  return undefined;
}

/**
 * Refuses a state-changing request (anything but GET, HEAD, OPTIONS) that a browser says comes
 * from another origin than `PUBLIC_URL`'s, with 403 `cross_origin` before any route runs: a form
 * on another site can no longer log a viewer out or change their favourite. SameSite=Lax keeps
 * the cookie off such requests, but not a response's Set-Cookie, nor a same-site sibling host.
 * The EventSub webhook never reaches this: its intake runs ahead of Express (Twitch sends no
 * Origin).
 */
export function sameOrigin(publicUrl: string): RequestHandler {
  const ownOrigin = new URL(publicUrl).origin.toLowerCase();
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method) || claimedSource(req, ownOrigin) !== 'other') {
      next();
      return;
    }
    next(
      forbidden(
        `Cross-site request refused: ${req.method} ${req.path} must come from ${ownOrigin}`,
        'cross_origin',
      ),
    );
  };
}
