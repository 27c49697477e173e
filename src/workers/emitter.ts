import { loadConfigOrExit } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { closeRedis, createRedis, reportErrors } from '../shared/connections/redis.js';
import { createShutdown } from '../shared/shutdown.js';
import { JOBS, QUEUES, createQueue } from '../shared/queues.js';
import { redisCheck } from '../shared/health.js';
import { startWorkerHealth } from './worker-health.js';
import { createWorker } from './worker-runtime.js';
import { createFeedPublisher } from './feed-publisher.js';
import { createNotifyEventsProcessor } from './processors/notify-event.processor.js';
import {
  createJobTimings,
  createMetricsRegistry,
  registerDependencyHealth,
  registerQueueDepths,
} from '../shared/metrics.js';
import { createEmitterMetrics } from './pipeline-metrics.js';

const config = loadConfigOrExit('emitter');
const log = createLogger(config.logLevel, 'emitter');
const shutdown = createShutdown(log, config.shutdownTimeoutMs);

const redis = createRedis(config.redis.url, 'emitter', 'blocking', log);
const publisher = createFeedPublisher(redis, config.redis.prefix);
const notifications = reportErrors(
  createQueue(QUEUES.notifications, redis, config.redis.prefix),
  `Queue ${QUEUES.notifications}`,
  log,
);
const readinessChecks = [redisCheck(redis)];
const metrics = createMetricsRegistry('emitter');
registerDependencyHealth(metrics, readinessChecks);
registerQueueDepths(metrics, [notifications]);
const health = await startWorkerHealth({
  port: config.http.healthPort,
  checks: readinessChecks,
  metrics,
  metricsToken: config.metricsToken,
  log,
});
const notifyEvents = createNotifyEventsProcessor({
  publisher,
  metrics: createEmitterMetrics(metrics),
});
const worker = createWorker({
  queue: QUEUES.notifications,
  connection: redis,
  redisPrefix: config.redis.prefix,
  concurrency: config.workers.emitterConcurrency,
  lockMs: config.workers.lockMs,
  log,
  handlers: { [JOBS.notifyEvents]: notifyEvents, [JOBS.notifyEvent]: notifyEvents },
});
createJobTimings(metrics).watch(worker);

shutdown.register('worker', 0, () => worker.close());
shutdown.register('health server', 0, () => health?.close());
shutdown.register('queue', 1, () => notifications.close());
shutdown.register('redis', 2, () => closeRedis(redis));
shutdown.listen();
log.info('emitter started');
