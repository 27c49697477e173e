import express, { Router, type RequestHandler } from 'express';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import type { UserStore } from '../../shared/db/user-store.js';
import type { StreamerStore } from '../../shared/db/streamer-store.js';
import type { SubscriptionStore } from '../../shared/db/subscription-store.js';
import type { HelixClient } from '../../shared/twitch/helix-client.js';
import type { RealtimeTokens } from '../../shared/realtime-token.js';
import { queueEnsureSubscriptions } from '../../shared/subscription-jobs.js';
import { isFullySubscribed, plannedSubscriptions } from '../../shared/twitch/subscription-plan.js';
import { badRequest, HttpError, notFound } from '../errors.js';
import { favoriteChangesInWindow } from '../rate-limits.js';
import type { Logger } from '../../shared/logger.js';
import type { NewStreamerBudget } from '../new-streamer-budget.js';
import { broadcasterIdSchema } from './route-params.js';
import type { FollowBackfillStore } from '../../shared/db/follow-backfill-store.js';
import { backfillView } from './backfill-status.js';
import { putPreferences } from './preferences.route.js';

export interface MeRouteDeps {
  users: UserStore;
  streamers: StreamerStore;
  helix: HelixClient;
  subscriptions: Queue;
  subscriptionRecords: SubscriptionStore;
  /** Per-viewer limit on favourite changes (see createFavoriteRateLimit). */
  favoriteRateLimit: RequestHandler;
  newStreamers: NewStreamerBudget;
  log: Logger;
  tokens: RealtimeTokens;
  realtimeUrl: string;
  /** The follow backfill's last runs, for a streamer's own `backfill` status. */
  backfills: Pick<FollowBackfillStore, 'find'>;
  /** OPERATOR_USER_IDS / OPERATOR_LOGINS: operators may replay any streamer's events. */
  isOperator?: (user: Express.User) => boolean;
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

/**
 * `/api/me`, `/api/me/favorite`, `/api/me/preferences` and `/api/realtime/token`: everything
 * tied to the viewer.
 */
export function meRoutes(deps: MeRouteDeps): Router {
  const router = Router();
  // A streamer whose whole set of subscriptions is live already costs Twitch nothing more.
  const costsNothing = async (broadcasterId: string) => {
    const streamer = await deps.streamers.find(broadcasterId);
    return (
      streamer !== null &&
      isFullySubscribed(
        plannedSubscriptions(broadcasterId, streamer.grantedScopes),
        await deps.subscriptionRecords.forBroadcaster(broadcasterId),
      )
    );
  };
  // Answers about one viewer: no shared cache may keep them, and no browser may reuse them.
  const perViewer: RequestHandler = (_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  };
  router.use(['/me', '/realtime'], perViewer);
  router.get('/me', requireUser, async (req, res) => {
    const viewer = await deps.users.find(req.user!.id);
    if (!viewer) throw new HttpError(401, 'unauthorized', 'Log in with Twitch first');
    const [streamer, lastRun] = await Promise.all([
      deps.streamers.find(viewer.id),
      deps.backfills.find(viewer.id),
    ]);
    res.json({ ...viewer, backfill: backfillView(streamer, lastRun) });
  });

  router.put(
    '/me/preferences',
    requireUser,
    express.json({ limit: '1kb' }),
    putPreferences(deps.users),
  );

  router.put(
    '/me/favorite',
    requireUser,
    express.json({ limit: '1kb' }),
    deps.favoriteRateLimit,
    async (req, res) => {
      const parsed = favoriteSchema.safeParse(req.body);
      if (!parsed.success) {
        throw badRequest(
          'login must be a Twitch login: 4-25 letters, digits or _',
          'invalid_login',
        );
      }
      const [found] = await deps.helix.getUsers({ logins: [parsed.data.login.toLowerCase()] });
      if (!found) throw notFound(`Twitch has no user called ${parsed.data.login}`);
      const favorite = {
        id: found.id,
        login: found.login,
        displayName: found.display_name,
        profileImageUrl: found.profile_image_url,
      };
      const reservation = (await costsNothing(favorite.id))
        ? null
        : await deps.newStreamers.reserve(req.user!.id, favorite.id);
      if (reservation && !reservation.allowed) {
        const retryAfter = Math.max(1, Math.ceil(reservation.retryAfterMs / 1000));
        deps.log.warn(
          { scope: 'api', userId: req.user!.id, broadcasterId: favorite.id },
          `favourite refused: viewer ${req.user!.id} already brought ${deps.newStreamers.perDay} new streamers in 24 h (wanted ${favorite.login})`,
        );
        throw new HttpError(
          429,
          'too_many_new_streamers',
          `You brought ${deps.newStreamers.perDay} streamers new to streamfeed in the last 24 hours, the most one viewer may. Your favourite is unchanged: choose a streamer streamfeed already follows, or retry after the time in the Retry-After header.`,
          { 'retry-after': String(retryAfter) },
        );
      }
      try {
        await deps.streamers.upsert(favorite);
        await deps.users.setFavorite(req.user!.id, favorite.id);
        // Subscriptions are made by a worker: Helix rate limits and retries stay out of the request.
        await queueEnsureSubscriptions(deps.subscriptions, favorite.id, {
          by: 'viewer',
          changesInWindow: favoriteChangesInWindow(req),
        });
      } catch (error) {
        if (reservation?.allowed) await reservation.release().catch(() => undefined);
        throw error;
      }
      res.json({ favorite });
    },
  );

  // Which event types the streamer's feed carries: streamer mode unlocks more than the default.
  router.get('/streamers/:broadcasterId', async (req, res) => {
    const id = broadcasterIdSchema.safeParse(req.params.broadcasterId);
    if (!id.success) throw badRequest('broadcasterId must be a Twitch user id');
    const streamer = await deps.streamers.find(id.data);
    if (!streamer) throw notFound('streamfeed does not follow that streamer yet');
    const eventTypes = [
      ...new Set(plannedSubscriptions(streamer.id, streamer.grantedScopes).map((s) => s.type)),
    ];
    const streamerMode = streamer.grantedScopes.length > 0;
    const user = req.user;
    res.set('cache-control', 'no-store'); // canReplay is the viewer's own
    res.json({
      id: streamer.id,
      login: streamer.login,
      displayName: streamer.displayName,
      profileImageUrl: streamer.profileImageUrl,
      streamerMode,
      eventTypes,
      // Whether this viewer may replay its events (the page shows the buttons only then).
      canReplay:
        user !== undefined &&
        ((user.id === streamer.id && streamerMode) || (deps.isOperator?.(user) ?? false)),
    });
  });

  router.get('/realtime/token', requireUser, async (req, res) => {
    res.json({ url: deps.realtimeUrl, token: await deps.tokens.issue(req.user!.id) });
  });
  return router;
}
