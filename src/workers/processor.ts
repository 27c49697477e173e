import { loadConfigOrExit } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { reportErrors } from '../shared/connections/redis.js';
import { openProcessRedis } from '../shared/connections/process-redis.js';
import { createDatabase } from '../shared/connections/database.js';
import { createShutdown } from '../shared/shutdown.js';
import {
  JOBS,
  MAX_EVENTS_PER_JOB,
  PERSIST_JOB_OPTIONS,
  QUEUES,
  createQueue,
  createShardedQueue,
  enqueue,
  type FeedNotification,
  type PersistEventJob,
  type QueueName,
} from '../shared/queues.js';
import { createGroupCommit } from '../shared/group-commit.js';
import { createFeedCache } from '../shared/feed/feed-cache.js';
import { createFollowWaves } from '../shared/feed/follow-waves.js';
import { createEventIdentity } from '../shared/events/event-identity.js';
import { createEventStore } from '../shared/db/event-store.js';
import { createSubscriptionStore } from '../shared/db/subscription-store.js';
import { databaseCheck, redisCheck } from '../shared/health.js';
import { startWorkerHealth } from './worker-health.js';
import { createWorker } from './worker-runtime.js';
import { startSubscriptionWorkers } from './subscription-workers.js';
import { startBackfillWorker } from './backfill-worker.js';
import { startLegacyDrain } from './legacy-queues.js';
import { createReplicaAck } from '../shared/connections/replica-ack.js';
import { createUserTokens } from '../shared/auth/user-tokens.js';
import { createEventSubCallbackProcessor } from './processors/eventsub-callback.processor.js';
import { createPersistEventsProcessor } from './processors/persist-event.processor.js';
import { createMaintainPartitionsProcessor } from './processors/maintain-partitions.processor.js';
import {
  createJobTimings,
  createMetricsRegistry,
  registerDependencyHealth,
  registerQueueDepths,
} from '../shared/metrics.js';
import { createProcessorMetrics } from './pipeline-metrics.js';
import { registerDefaultPartitionRows } from '../shared/db/default-partition-metric.js';

const config = loadConfigOrExit('processor');
const log = createLogger(config.logLevel, 'processor');
const shutdown = createShutdown(log, config.shutdownTimeoutMs);
const { prefix } = config.redis;

const redisConnections = await openProcessRedis(config, 'processor', log);
const redis = redisConnections.connect('processor', 'blocking');
const knex = createDatabase(config.db.url, {
  log,
  statementTimeoutMs: config.db.statementTimeoutMs,
});
const { queueShards, workerShards } = config.redis;
const sharded = (name: QueueName) => {
  const queue = createShardedQueue(name, redis, prefix, queueShards);
  for (const shard of queue.shards) reportErrors(shard, `Queue ${shard.name}`, log);
  return queue;
};
const callbacks = sharded(QUEUES.callbacks);
const notifications = sharded(QUEUES.notifications);
const persist = sharded(QUEUES.persist);
const maintenance = reportErrors(
  createQueue(QUEUES.maintenance, redis, prefix),
  `Queue ${QUEUES.maintenance}`,
  log,
);
const subscriptions = reportErrors(
  createQueue(QUEUES.subscriptions, redis, prefix),
  `Queue ${QUEUES.subscriptions}`,
  log,
);
const backfills = reportErrors(
  createQueue(QUEUES.backfill, redis, prefix),
  `Queue ${QUEUES.backfill}`,
  log,
);
const readinessChecks = [redisCheck(redis), databaseCheck(knex)];
const metrics = createMetricsRegistry('processor');
registerDependencyHealth(metrics, readinessChecks);
registerQueueDepths(metrics, [
  ...callbacks.shards,
  ...persist.shards,
  maintenance,
  subscriptions,
  backfills,
]);
registerDefaultPartitionRows(metrics, knex);
const health = await startWorkerHealth({
  port: config.http.healthPort,
  checks: readinessChecks,
  metrics,
  metricsToken: config.metricsToken,
  log,
});

const userTokens = createUserTokens(redis, prefix);
const processorMetrics = createProcessorMetrics(metrics);
const identify = createEventIdentity(redis, prefix, config.events.dedupeWindowSeconds);
const cache = createFeedCache(redis, prefix);
const waves =
  config.followWaves.threshold > 0
    ? createFollowWaves(redis, prefix, config.followWaves)
    : undefined;
const revocations = createSubscriptionStore(knex);
// REDIS_ACK_REPLICAS: a callback job completes only once what it wrote is on the replicas.
const confirmReplicated =
  config.redis.ackReplicas > 0
    ? createReplicaAck(redis, config.redis.ackReplicas, config.redis.ackTimeoutMs)
    : undefined;
const storeEvents = createPersistEventsProcessor({ store: createEventStore(knex) });
const common = { connection: redis, redisPrefix: prefix, lockMs: config.workers.lockMs, log };
// PROCESSOR_CONCURRENCY is per shard: a shard's callbacks make that shard's batches, so fewer in
// flight per shard means smaller batches and more Redis commands per event (docs/BENCHMARKS.md).
const concurrency = config.workers.processorConcurrency;

/**
 * The handlers of one shard's work: its callbacks, and the notify and storage jobs they make,
 * which go to the same shard number (callbacks are sharded by streamer, so a streamer's batches
 * keep to one queue). Events processed at the same time share one notification job and one
 * storage job.
 */
function shardHandlers(shard: number) {
  const notifyQueue = notifications.shards[shard]!;
  const persistQueue = persist.shards[shard]!;
  const notificationBatches = createGroupCommit<FeedNotification>(
    async (batch) => {
      await enqueue(notifyQueue, JOBS.notifyEvents, { notifications: batch });
      await confirmReplicated?.(notifyQueue.toKey('id'));
    },
    { maxItems: MAX_EVENTS_PER_JOB },
  );
  const persistBatches = createGroupCommit<PersistEventJob>(
    async (batch) => {
      await enqueue(persistQueue, JOBS.persistEvents, { rows: batch }, PERSIST_JOB_OPTIONS);
      await confirmReplicated?.(persistQueue.toKey('id'));
    },
    { maxItems: MAX_EVENTS_PER_JOB },
  );
  const processCallback = createEventSubCallbackProcessor({
    redis,
    prefix,
    dedupeWindowSeconds: config.events.dedupeWindowSeconds,
    identify,
    cache,
    ...(confirmReplicated ? { confirmReplicated } : {}),
    queueNotification: (notification) => notificationBatches.add(notification),
    queuePersist: (row) => persistBatches.add(row),
    ...(waves && {
      waves,
      // One trailing update per wave and moment, however many processors ask for it.
      queueWaveFlush: (job, at) =>
        enqueue(notifyQueue, JOBS.flushFollowWave, job, {
          jobId: `wave-${job.waveId}-${at}`,
          delay: Math.max(0, at - Date.now()),
        }),
    }),
    revocations,
    endUserSessions: (userId) => userTokens.endSessions(userId),
    log,
    metrics: processorMetrics,
  });
  return {
    callbacks: { [JOBS.eventSubCallback]: processCallback },
    persist: { [JOBS.persistEvents]: storeEvents, [JOBS.persistEvent]: storeEvents },
  };
}
const handlersByShard = new Map(workerShards.map((shard) => [shard, shardHandlers(shard)]));
const maintainPartitions = createMaintainPartitionsProcessor({
  knex,
  settings: {
    interval: config.events.partitionInterval,
    retention: config.events.retention,
    ahead: config.events.partitionsAhead,
    archiveDir: config.events.archiveDir,
  },
  log,
});
if (!config.events.archiveDir) {
  log.warn(
    `EVENT_ARCHIVE_DIR is not set: event partitions past retention (${config.events.retention} ${config.events.partitionInterval}s) are dropped, their events gone, not archived`,
  );
}
const workers = [
  ...[...handlersByShard].flatMap(([shard, handlers]) => [
    createWorker({
      ...common,
      queue: callbacks.shards[shard]!.name,
      concurrency,
      handlers: handlers.callbacks,
    }),
    createWorker({
      ...common,
      queue: persist.shards[shard]!.name,
      concurrency,
      handlers: handlers.persist,
    }),
  ]),
  createWorker({
    ...common,
    queue: maintenance.name,
    concurrency: 1,
    handlers: { [JOBS.maintainPartitions]: maintainPartitions },
  }),
];
// Every processor upserts the same schedule; BullMQ keeps one, so the job runs once a day.
await maintenance.upsertJobScheduler(
  'daily-partitions',
  { pattern: '17 3 * * *' },
  { name: JOBS.maintainPartitions, data: {} },
);

const backfill = await startBackfillWorker(config, redis, knex, callbacks, backfills, log);
const subscriptionWorkers = await startSubscriptionWorkers(
  config,
  redis,
  knex,
  log,
  metrics,
  backfill.queue,
);
const jobTimings = createJobTimings(metrics);
for (const worker of [...workers, ...subscriptionWorkers.workers, ...backfill.workers]) {
  jobTimings.watch(worker);
}

// Jobs queued by versions before the shards (single Redis only); a legacy callback's batches go
// to the first shard this processor works.
const legacyHandlers = handlersByShard.get(workerShards[0]!)!;
const legacy = redisConnections.isCluster
  ? undefined
  : startLegacyDrain({
      ...common,
      queues: [
        { kind: QUEUES.callbacks, handlers: legacyHandlers.callbacks },
        { kind: QUEUES.persist, handlers: legacyHandlers.persist },
        {
          kind: QUEUES.maintenance,
          handlers: { [JOBS.maintainPartitions]: maintainPartitions },
          schedulers: ['daily-partitions'],
          concurrency: 1,
        },
        ...subscriptionWorkers.legacyQueues,
      ],
    });

shutdown.register('workers', 0, () => Promise.all(workers.map((w) => w.close())));
shutdown.register('subscription workers', 0, () => subscriptionWorkers.close());
shutdown.register('follow backfill', 0, () => backfill.close());
shutdown.register('legacy queues', 0, () => legacy?.close());
shutdown.register('health server', 0, () => health?.close());
shutdown.register('queues', 1, () =>
  Promise.all(
    [notifications, persist, callbacks]
      .map((queue) => queue.close())
      .concat([maintenance, subscriptions, backfills].map((queue) => queue.close())),
  ),
);
shutdown.register('redis', 2, () => redisConnections.close());
shutdown.register('postgres', 2, () => knex.destroy());
shutdown.listen();
log.info('processor started');
