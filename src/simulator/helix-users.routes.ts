import { Router } from 'express';
import { helixError } from './helix-errors.js';
import { helixRateLimit, helixToken, requireHelixToken } from './helix-auth.js';
import type { SimState, SimUser } from './sim-state.js';

const list = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];

/** Helix `GET /users`: by id and login, or the token's own user; email only with its scope. */
export function createHelixUsersRouter(state: SimState, rateLimit = 800): Router {
  const router = Router();
  router.get(
    '/users',
    requireHelixToken(state, 'any'),
    helixRateLimit(state, rateLimit),
    (req, res) => {
      const token = helixToken(res.locals);
      const ids = list(req.query.id);
      const logins = list(req.query.login).map((l) => l.toLowerCase());
      if (ids.length + logins.length > 100) {
        return helixError(res, 400, 'The total number of id and login values must not exceed 100');
      }
      let users: SimUser[];
      if (ids.length + logins.length === 0) {
        if (token.kind !== 'user' || !token.userId) {
          return helixError(res, 400, 'Missing required parameter "id" or "login"');
        }
        users = [state.users.get(token.userId)].filter((u): u is SimUser => u !== undefined);
      } else {
        users = [...state.users.values()].filter(
          (u) => ids.includes(u.id) || logins.includes(u.login),
        );
      }
      res.json({
        data: users.map((u) => ({
          id: u.id,
          login: u.login,
          display_name: u.displayName,
          type: u.type,
          broadcaster_type: u.broadcasterType,
          description: u.description,
          profile_image_url: u.profileImageUrl,
          offline_image_url: u.offlineImageUrl,
          view_count: 0,
          ...(token.userId === u.id && token.scopes.includes('user:read:email')
            ? { email: u.email }
            : {}),
          created_at: u.createdAt,
        })),
      });
    },
  );
  return router;
}
