import { loadConfigOrExit } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { closeRedis, createRedis, reportErrors } from '../shared/connections/redis.js';
import { createDatabase } from '../shared/connections/database.js';
import { createShutdown } from '../shared/shutdown.js';
import {
  JOBS,
  MAX_EVENTS_PER_JOB,
  PERSIST_JOB_OPTIONS,
  QUEUES,
  createQueue,
  enqueue,
  type NotifyEventJob,
  type PersistEventJob,
  type QueueName,
} from '../shared/queues.js';
import { createGroupCommit } from '../shared/group-commit.js';
import { createFeedCache } from '../shared/feed/feed-cache.js';
import { createEventIdentity } from '../shared/events/event-identity.js';
import { createEventStore } from '../shared/db/event-store.js';
import { createSubscriptionStore } from '../shared/db/subscription-store.js';
import { databaseCheck, redisCheck } from '../shared/health.js';
import { startWorkerHealth } from './worker-health.js';
import { createWorker } from './worker-runtime.js';
import { startSubscriptionWorkers } from './subscription-workers.js';
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

const config = loadConfigOrExit('processor');
const log = createLogger(config.logLevel, 'processor');
const shutdown = createShutdown(log, config.shutdownTimeoutMs);
const { prefix } = config.redis;

const redis = createRedis(config.redis.url, 'processor', 'blocking', log);
const knex = createDatabase(config.db.url, {
  log,
  statementTimeoutMs: config.db.statementTimeoutMs,
});
const queue = (name: QueueName) =>
  reportErrors(createQueue(name, redis, prefix), `Queue ${name}`, log);
const notifications = queue(QUEUES.notifications);
const persist = queue(QUEUES.persist);
const maintenance = queue(QUEUES.maintenance);

const callbacks = queue(QUEUES.callbacks);
const subscriptions = queue(QUEUES.subscriptions);
const readinessChecks = [redisCheck(redis), databaseCheck(knex)];
const metrics = createMetricsRegistry('processor');
registerDependencyHealth(metrics, readinessChecks);
registerQueueDepths(metrics, [callbacks, persist, maintenance, subscriptions]);
const health = await startWorkerHealth({
  port: config.http.healthPort,
  checks: readinessChecks,
  metrics,
  metricsToken: config.metricsToken,
  log,
});

// Events processed at the same time share one notification job and one storage job.
const notificationBatches = createGroupCommit<NotifyEventJob>(
  (batch) => enqueue(notifications, JOBS.notifyEvents, { notifications: batch }),
  { maxItems: MAX_EVENTS_PER_JOB },
);
const persistBatches = createGroupCommit<PersistEventJob>(
  (batch) => enqueue(persist, JOBS.persistEvents, { rows: batch }, PERSIST_JOB_OPTIONS),
  { maxItems: MAX_EVENTS_PER_JOB },
);

const userTokens = createUserTokens(redis, prefix);
const processCallback = createEventSubCallbackProcessor({
  redis,
  prefix,
  dedupeWindowSeconds: config.events.dedupeWindowSeconds,
  identify: createEventIdentity(redis, prefix, config.events.dedupeWindowSeconds),
  cache: createFeedCache(redis, prefix),
  queueNotification: (notification) => notificationBatches.add(notification),
  queuePersist: (row) => persistBatches.add(row),
  revocations: createSubscriptionStore(knex),
  endUserSessions: (userId) => userTokens.endSessions(userId),
  log,
  metrics: createProcessorMetrics(metrics),
});
const storeEvents = createPersistEventsProcessor({ store: createEventStore(knex) });
const common = { connection: redis, redisPrefix: prefix, lockMs: config.workers.lockMs, log };
const workers = [
  createWorker({
    ...common,
    queue: QUEUES.callbacks,
    concurrency: config.workers.processorConcurrency,
    handlers: { [JOBS.eventSubCallback]: processCallback },
  }),
  createWorker({
    ...common,
    queue: QUEUES.persist,
    concurrency: config.workers.processorConcurrency,
    handlers: {
      [JOBS.persistEvents]: storeEvents,
      [JOBS.persistEvent]: storeEvents,
    },
  }),
  createWorker({
    ...common,
    queue: QUEUES.maintenance,
    concurrency: 1,
    handlers: {
      [JOBS.maintainPartitions]: createMaintainPartitionsProcessor({
        knex,
        retentionMonths: config.events.retentionMonths,
        log,
      }),
    },
  }),
];
// Every processor upserts the same schedule; BullMQ keeps one, so the job runs once a day.
await maintenance.upsertJobScheduler(
  'daily-partitions',
  { pattern: '17 3 * * *' },
  { name: JOBS.maintainPartitions, data: {} },
);

const subscriptionWorkers = await startSubscriptionWorkers(config, redis, knex, log, metrics);
const jobTimings = createJobTimings(metrics);
for (const worker of [...workers, ...subscriptionWorkers.workers]) jobTimings.watch(worker);

shutdown.register('workers', 0, () => Promise.all(workers.map((w) => w.close())));
shutdown.register('subscription workers', 0, () => subscriptionWorkers.close());
shutdown.register('health server', 0, () => health?.close());
shutdown.register('queues', 1, () =>
  Promise.all(
    [notifications, persist, maintenance, callbacks, subscriptions].map((queue) => queue.close()),
  ),
);
shutdown.register('redis', 2, () => closeRedis(redis));
shutdown.register('postgres', 2, () => knex.destroy());
shutdown.listen();
log.info('processor started');
