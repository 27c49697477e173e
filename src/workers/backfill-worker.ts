import type { Knex } from 'knex';
import type { ConfigFor } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import type { Queue } from 'bullmq';
import type { RedisClient } from '../shared/connections/redis.js';
import { JOBS, enqueue, type ShardedQueue } from '../shared/queues.js';
import { createUserTokens } from '../shared/auth/user-tokens.js';
import { createStreamerStore } from '../shared/db/streamer-store.js';
import { createFollowBackfillStore } from '../shared/db/follow-backfill-store.js';
import { FOLLOWERS_SCOPE, queueFollowBackfill } from '../shared/backfill-jobs.js';
import { createHelixFollowers } from '../shared/twitch/helix-followers.js';
import { createWorker } from './worker-runtime.js';
import { createBackfillFollowsProcessor } from './processors/backfill-follows.processor.js';

/**
 * The follow backfill (queue `followBackfill`): at start-up, a backfill of every streamer who let
 * streamfeed list their followers, since this processor may be coming back from downtime; and a
 * `queue` for the subscription worker to ask for one when it re-creates a follow subscription.
 * Without Twitch credentials there is no Helix to ask, and it says so.
 */
export async function startBackfillWorker(
  config: ConfigFor<'processor'>,
  redis: RedisClient,
  knex: Knex,
  callbacks: ShardedQueue,
  /** The `followBackfill` queue, which the processor owns (its depth is a metric) and closes. */
  queue: Queue,
  log: Logger,
) {
  const { clientId, clientSecret, authUrl, apiUrl } = config.twitch;
  if (!clientId || !clientSecret) {
    log.warn('TWITCH_CLIENT_ID/TWITCH_CLIENT_SECRET unset: no follow backfill by this processor');
    return { workers: [], queue: undefined, close: () => Promise.resolve() };
  }
  const { prefix } = config.redis;
  const store = createFollowBackfillStore(knex);
  const handler = createBackfillFollowsProcessor({
    streamers: createStreamerStore(knex),
    store,
    tokens: createUserTokens(redis, prefix),
    followersWith: (token, saveToken) =>
      createHelixFollowers({ authUrl, apiUrl, clientId, clientSecret, token, saveToken }),
    queueCallback: (broadcasterId, job, jobId) =>
      enqueue(callbacks.forStreamer(broadcasterId), JOBS.eventSubCallback, job, { jobId }),
    maxFollows: config.backfill.maxFollows,
    maxAgeMs: config.backfill.maxAgeMs,
    log,
  });
  const worker = createWorker({
    queue: queue.name,
    connection: redis,
    redisPrefix: prefix,
    lockMs: config.workers.lockMs,
    // Each streamer's token has a Helix bucket of its own; a few at once stay far inside each.
    concurrency: 4,
    log,
    handlers: { [JOBS.backfillFollows]: handler },
  });
  const consenting = await store.consenting(FOLLOWERS_SCOPE);
  for (const broadcasterId of consenting) {
    await queueFollowBackfill(queue, broadcasterId, 'processor-start', config.backfill.delayMs);
  }
  log.info(
    { streamers: consenting.length },
    `Follow backfill queued for ${consenting.length} streamer(s) in ${config.backfill.delayMs / 1000} s`,
  );
  return {
    /** For the processor's job timings. */
    workers: [worker],
    queue,
    close: () => worker.close(),
  };
}
