import express, { Router, type RequestHandler } from 'express';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import type { UserStore } from '../../shared/db/user-store.js';
import type { StreamerStore } from '../../shared/db/streamer-store.js';
import type { HelixClient } from '../../shared/twitch/helix-client.js';
import type { RealtimeTokens } from '../../shared/realtime-token.js';
import { JOBS, enqueue } from '../../shared/queues.js';
import { plannedSubscriptions } from '../../shared/twitch/subscription-plan.js';
import { badRequest, HttpError, notFound } from '../errors.js';
import { broadcasterIdSchema } from './route-params.js';

export interface MeRouteDeps {
  users: UserStore;
  streamers: StreamerStore;
  helix: HelixClient;
  subscriptions: Queue;
  tokens: RealtimeTokens;
  realtimeUrl: string;
}

const favoriteSchema = z.object({
  login: z
    .string()
    .trim()
    .regex(/^[a-zA-Z0-9_]{4,25}$/),
});

export const requireUser: RequestHandler = (req, _res, next) => {
  next(req.user ? undefined : new HttpError(401, 'unauthorized', 'Log in with Twitch first'));
};

/** `/api/me`, `/api/me/favorite` and `/api/realtime/token`: everything tied to the viewer. */
export function meRoutes(deps: MeRouteDeps): Router {
  const router = Router();
  router.get('/me', requireUser, async (req, res) => {
    const viewer = await deps.users.find(req.user!.id);
    if (!viewer) throw new HttpError(401, 'unauthorized', 'Log in with Twitch first');
    res.json(viewer);
  });

  router.put('/me/favorite', requireUser, express.json({ limit: '1kb' }), async (req, res) => {
    const parsed = favoriteSchema.safeParse(req.body);
    if (!parsed.success) {
      throw badRequest('login must be a Twitch login: 4-25 letters, digits or _', 'invalid_login');
    }
    const [found] = await deps.helix.getUsers({ logins: [parsed.data.login.toLowerCase()] });
    if (!found) throw notFound(`Twitch has no user called ${parsed.data.login}`);
    const favorite = {
      id: found.id,
      login: found.login,
      displayName: found.display_name,
      profileImageUrl: found.profile_image_url,
    };
    await deps.streamers.upsert(favorite);
    await deps.users.setFavorite(req.user!.id, favorite.id);
    // Subscriptions are made by a worker: Helix rate limits and retries stay out of the request.
    await enqueue(deps.subscriptions, JOBS.ensureSubscriptions, { broadcasterId: favorite.id });
    res.json({ favorite });
  });

  // Which event types the streamer's feed carries: streamer mode unlocks more than the default.
  router.get('/streamers/:broadcasterId', async (req, res) => {
    const id = broadcasterIdSchema.safeParse(req.params.broadcasterId);
    if (!id.success) throw badRequest('broadcasterId must be a Twitch user id');
    const streamer = await deps.streamers.find(id.data);
    if (!streamer) throw notFound('streamfeed does not follow that streamer yet');
    const eventTypes = [
      ...new Set(plannedSubscriptions(streamer.id, streamer.grantedScopes).map((s) => s.type)),
    ];
    res.json({
      id: streamer.id,
      login: streamer.login,
      displayName: streamer.displayName,
      profileImageUrl: streamer.profileImageUrl,
      streamerMode: streamer.grantedScopes.length > 0,
      eventTypes,
    });
  });

  router.get('/realtime/token', requireUser, async (req, res) => {
    res
      .set('cache-control', 'no-store')
      .json({ url: deps.realtimeUrl, token: await deps.tokens.issue(req.user!.id) });
  });
  return router;
}
