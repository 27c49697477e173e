import { Router } from 'express';
import { helixError } from './helix-errors.js';
import { helixRateLimit, helixToken, requireHelixToken } from './helix-auth.js';
import type { SimState } from './sim-state.js';
import type { FollowerStore, SimFollow } from './followers.js';

const SCOPE = 'moderator:read:followers';

/** Helix gives follow times to the second: `2022-05-24T22:22:08Z`. */
const toSecond = (time: string) => `${time.slice(0, 19)}Z`;

// Opaque to clients, as Twitch's are; it names the last follow of the page, so a follow made
// while paging shifts nothing (Twitch's `total` may change while paging).
const cursorOf = (f: SimFollow) =>
  Buffer.from(JSON.stringify([f.followedAt, f.order])).toString('base64url');
function parseCursor(cursor: string): [string, number] | null {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown;
    if (Array.isArray(value) && typeof value[0] === 'string' && Number.isInteger(value[1])) {
      return [value[0], value[1] as number];
    }
  } catch {
    // an unreadable cursor is a bad request, below
  }
  return null;
}
const olderThan =
  ([time, order]: [string, number]) =>
  (f: SimFollow) =>
    f.followedAt < time || (f.followedAt === time && f.order < order);

/**
 * Helix `GET /channels/followers` as PROTOCOL.md section 9 describes it: a user token; `first`
 * 1-100 (default 20), `after` a cursor; newest first; and a token that is not the broadcaster's
 * with `moderator:read:followers` gets only `total` (401 if it asked about one `user_id`).
 */
export function createHelixFollowersRouter(
  state: SimState,
  followers: FollowerStore,
  rateLimit = 800,
): Router {
  const router = Router();
  router.get(
    '/channels/followers',
    requireHelixToken(state, 'user'),
    helixRateLimit(state, rateLimit),
    (req, res) => {
      const token = helixToken(res.locals);
      const { broadcaster_id: broadcasterId, user_id: userId, first, after } = req.query;
      if (typeof broadcasterId !== 'string' || broadcasterId === '') {
        return helixError(res, 400, 'Missing required parameter "broadcaster_id"');
      }
      if (!/^\d+$/.test(broadcasterId) || !state.users.has(broadcasterId)) {
        return helixError(res, 400, 'The ID in broadcaster_id is not valid');
      }
      if (userId !== undefined && (typeof userId !== 'string' || !/^\d+$/.test(userId))) {
        return helixError(res, 400, 'The ID in user_id is not valid');
      }
      let size = 20;
      if (first !== undefined) {
        size = typeof first === 'string' && /^\d+$/.test(first) ? Number(first) : NaN;
        if (!(size >= 1 && size <= 100)) {
          return helixError(res, 400, 'The parameter "first" must be a number from 1 through 100');
        }
      }
      const position = typeof after === 'string' && after !== '' ? parseCursor(after) : undefined;
      if (position === null || (after !== undefined && typeof after !== 'string')) {
        return helixError(res, 400, 'The parameter "after" is not a valid cursor');
      }
      // Only the broadcaster here: the simulator has no moderators.
      const allowed = token.userId === broadcasterId && token.scopes.includes(SCOPE);
      let all = followers.list(broadcasterId);
      if (userId !== undefined) {
        if (!allowed) {
          return helixError(
            res,
            401,
            `Missing scope ${SCOPE}, or the user is not the broadcaster or one of their moderators`,
          );
        }
        all = all.filter((f) => f.userId === userId);
      }
      if (!allowed) return void res.json({ total: all.length, data: [], pagination: {} });
      const rest = position ? all.filter(olderThan(position)) : all;
      const page = rest.slice(0, size);
      res.json({
        total: all.length,
        data: page.map((f) => ({
          user_id: f.userId,
          user_login: f.userLogin,
          user_name: f.userName,
          followed_at: toSecond(f.followedAt),
        })),
        pagination: rest.length > page.length ? { cursor: cursorOf(page[page.length - 1]!) } : {},
      });
    },
  );
  return router;
}
