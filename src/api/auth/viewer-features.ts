import express, { Router, type RequestHandler } from 'express';
import passport from 'passport';
import type { Knex } from 'knex';
import type { ConfigFor } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';
import { reportErrors, type RedisClient } from '../../shared/connections/redis.js';
import { JOBS, QUEUES, createQueue, createShardedQueue, enqueue } from '../../shared/queues.js';
import { createFeedCache } from '../../shared/feed/feed-cache.js';
import { createEventStore } from '../../shared/db/event-store.js';
import { replayRoute, replaySlots } from '../routes/replay.route.js';
import { operatorCheck } from './operators.js';
import { queueEnsureSubscriptions } from '../../shared/subscription-jobs.js';
import { STREAMER_MODE_SCOPES } from '../../shared/twitch/subscription-plan.js';
import { createUserTokens } from '../../shared/auth/user-tokens.js';
import { scheduleUserTokenValidation } from '../../shared/auth/token-validation.js';
import { createUserStore } from '../../shared/db/user-store.js';
import { createStreamerStore } from '../../shared/db/streamer-store.js';
import { createSubscriptionStore } from '../../shared/db/subscription-store.js';
import { createFollowBackfillStore } from '../../shared/db/follow-backfill-store.js';
import { createHelixClient } from '../../shared/twitch/helix-client.js';
import { createRealtimeTokens } from '../../shared/realtime-token.js';
import { HttpError } from '../errors.js';
import { meRoutes } from '../routes/me.routes.js';
import { createFavoriteRateLimit } from '../rate-limits.js';
import { createNewStreamerBudget } from '../new-streamer-budget.js';
import { sessionMiddleware } from './session.middleware.js';
import { twitchLoginRoutes } from './twitch-login.routes.js';

/**
 * Login, sessions and the viewer's API, mounted as one router. Without Twitch credentials they
 * answer 503 naming the missing variables, so the intake still runs.
 */
export function createViewerFeatures(
  config: ConfigFor<'web'>,
  redis: RedisClient,
  knex: Knex,
  log: Logger,
) {
  const router = Router();
  const { clientId, clientSecret } = config.twitch;
  if (!clientId || !clientSecret) {
    router.use(['/auth', '/api/me', '/api/realtime'], () => {
      throw new HttpError(
        503,
        'login_not_configured',
        'Twitch login is not configured: set TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET',
      );
    });
    return { router, close: () => Promise.resolve() };
  }
  const prefix = config.redis.prefix;
  const tokens = createUserTokens(redis, prefix);
  const users = createUserStore(knex);
  const streamers = createStreamerStore(knex);
  const subscriptions = createQueue(QUEUES.subscriptions, redis, prefix);
  reportErrors(subscriptions, `Queue ${QUEUES.subscriptions}`, log);
  const twitch = { authUrl: config.twitch.authUrl, clientId, clientSecret };
  const isOperator = operatorCheck(config.operators);
  // Replays go to the realtime fleet as notifications, through the emitter, as events do.
  const notifications = createShardedQueue(
    QUEUES.notifications,
    redis,
    prefix,
    config.redis.queueShards,
  );
  for (const shard of notifications.shards) reportErrors(shard, `Queue ${shard.name}`, log);

  router.use(
    sessionMiddleware({
      redis,
      prefix,
      secret: config.session.secret,
      publicUrl: config.http.publicUrl,
    }),
  );
  router.use(passport.initialize(), passport.session() as RequestHandler);
  router.use(
    '/auth',
    express.urlencoded({ extended: false, limit: '1kb' }),
    twitchLoginRoutes({
      ...twitch,
      apiUrl: config.twitch.apiUrl,
      publicUrl: config.http.publicUrl,
      tokens,
      saveUser: (user) => users.save(user),
      streamerScopes: STREAMER_MODE_SCOPES,
      onChannelConnected: async (user, scopes) => {
        await streamers.upsert(user);
        await streamers.setGrantedScopes(user.id, scopes);
        await queueEnsureSubscriptions(subscriptions, user.id, { by: 'streamer' });
      },
      log,
    }),
  );
  router.use(
    '/api',
    meRoutes({
      users,
      streamers,
      helix: createHelixClient({
        ...twitch,
        apiUrl: config.twitch.apiUrl,
        redis,
        redisPrefix: prefix,
      }),
      subscriptions,
      subscriptionRecords: createSubscriptionStore(knex),
      favoriteRateLimit: createFavoriteRateLimit({
        redis,
        redisPrefix: prefix,
        windowSeconds: config.rateLimits.windowSeconds,
        max: config.favorites.changeMax,
        log,
      }),
      newStreamers: createNewStreamerBudget(redis, prefix, config.favorites.newStreamersPerDay),
      log,
      tokens: createRealtimeTokens(config.session.secret),
      realtimeUrl: config.http.realtimeUrl,
      backfills: createFollowBackfillStore(knex),
      isOperator,
    }),
  );
  router.use(
    '/api',
    replayRoute({
      cache: createFeedCache(redis, prefix),
      history: createEventStore(knex),
      isStreamerMode: async (id) => ((await streamers.find(id))?.grantedScopes.length ?? 0) > 0,
      isOperator,
      takeReplaySlot: replaySlots(redis, prefix, config.replay.intervalSeconds * 1000),
      publish: (replay) =>
        enqueue(notifications.forStreamer(replay.broadcasterId), JOBS.notifyEvents, {
          notifications: [replay],
        }),
      log,
    }),
  );
  const validation = scheduleUserTokenValidation({ ...twitch, tokens, redis, prefix, log });
  return {
    router,
    async close() {
      validation.stop();
      await Promise.all([subscriptions.close(), notifications.close()]);
    },
  };
}
