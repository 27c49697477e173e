import type { Knex } from 'knex';
import type { Registry } from 'prom-client';
import type { ConfigFor } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { reportErrors, type RedisClient } from '../shared/connections/redis.js';
import type { Queue } from 'bullmq';
import { JOBS, QUEUES, createQueue } from '../shared/queues.js';
import { queueFollowBackfill } from '../shared/backfill-jobs.js';
import { createHelixClient, type SubscriptionCost } from '../shared/twitch/helix-client.js';
import { createSubscriptionStore } from '../shared/db/subscription-store.js';
import { createStreamerStore } from '../shared/db/streamer-store.js';
import { createEventSubCostGauges } from '../shared/metrics.js';
import { createWorker } from './worker-runtime.js';
import type { LegacyQueue } from './legacy-queues.js';
import { createEnsureSubscriptionsProcessor } from './processors/ensure-subscriptions.processor.js';
import { createReconcileSubscriptionsProcessor } from './processors/reconcile-subscriptions.processor.js';

/**
 * The EventSub subscription manager: ensure jobs (one per streamer) and the periodic
 * reconciliation. Without Twitch credentials there is nothing to manage, and it says so.
 */
export async function startSubscriptionWorkers(
  config: ConfigFor<'processor'>,
  redis: RedisClient,
  knex: Knex,
  log: Logger,
  /** Where Twitch's cost budget is exported (see createEventSubCostGauges). */
  metrics?: Registry,
  /** Where a re-created follow subscription asks for a follow backfill (backfill-worker.ts). */
  backfillQueue?: Queue,
) {
  const { clientId, clientSecret } = config.twitch;
  if (!clientId || !clientSecret) {
    log.warn(
      'TWITCH_CLIENT_ID/TWITCH_CLIENT_SECRET unset: EventSub subscriptions are not managed by this processor',
    );
    return { workers: [], legacyQueues: [], close: () => Promise.resolve() };
  }
  const queue = createQueue(QUEUES.subscriptions, redis, config.redis.prefix);
  const cost = metrics && createEventSubCostGauges(metrics);
  reportErrors(queue, `Queue ${QUEUES.subscriptions}`, log);
  const deps = {
    helix: createHelixClient({
      authUrl: config.twitch.authUrl,
      apiUrl: config.twitch.apiUrl,
      clientId,
      clientSecret,
      redis,
      redisPrefix: config.redis.prefix,
      ...(cost ? { onCost: (figures: SubscriptionCost) => cost.record(figures) } : {}),
    }),
    subscriptions: createSubscriptionStore(knex),
    streamers: createStreamerStore(knex),
    callbackUrl: `${config.http.publicUrl}/webhooks/twitch`,
    secret: config.twitch.eventSubSecret,
    log,
    ...(backfillQueue
      ? {
          onFollowsResubscribed: (broadcasterId: string) =>
            queueFollowBackfill(
              backfillQueue,
              broadcasterId,
              'subscription-recreated',
              config.backfill.delayMs,
            ),
        }
      : {}),
  };
  const handlers = {
    [JOBS.ensureSubscriptions]: createEnsureSubscriptionsProcessor(deps),
    [JOBS.reconcileSubscriptions]: createReconcileSubscriptionsProcessor({
      ...deps,
      subscriptionsQueue: queue,
      idleMs: config.subscriptions.idleMs,
    }),
  };
  const worker = createWorker({
    queue: queue.name,
    connection: redis,
    redisPrefix: config.redis.prefix,
    lockMs: config.workers.lockMs,
    concurrency: 1,
    // Helix allows 800 requests a minute; one job makes up to ~20, so stay well inside it.
    limiter: { max: 2, duration: 1000 },
    log,
    handlers,
  });
  await queue.upsertJobScheduler(
    'reconcile-subscriptions',
    { every: config.subscriptions.reconcileIntervalMs },
    { name: JOBS.reconcileSubscriptions, data: {} },
  );
  return {
    /** For the processor's job timings. */
    workers: [worker],
    /** The same work on the queue of versions before the shards (see legacy-queues.ts). */
    legacyQueues: [
      {
        kind: QUEUES.subscriptions,
        handlers,
        schedulers: ['reconcile-subscriptions'],
        concurrency: 1,
      },
    ] satisfies LegacyQueue[],
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
