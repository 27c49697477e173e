import { loadConfigOrExit } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { reportErrors } from '../shared/connections/redis.js';
import { openProcessRedis } from '../shared/connections/process-redis.js';
import { createShutdown } from '../shared/shutdown.js';
import { JOBS, QUEUES, createShardedQueue } from '../shared/queues.js';
import { redisCheck } from '../shared/health.js';
import { startWorkerHealth } from './worker-health.js';
import { createWorker } from './worker-runtime.js';
import { startLegacyDrain } from './legacy-queues.js';
import { createFeedPublisher } from './feed-publisher.js';
import { createNotifyEventsProcessor } from './processors/notify-event.processor.js';
import { createFlushFollowWaveProcessor } from './processors/flush-follow-wave.processor.js';
import { createFollowWaves } from '../shared/feed/follow-waves.js';
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

const redisConnections = await openProcessRedis(config, 'emitter', log);
const redis = redisConnections.connect('emitter', 'blocking');
const publisher = createFeedPublisher(redis, config.redis.prefix);
const { prefix, queueShards, workerShards } = config.redis;
const notifications = createShardedQueue(QUEUES.notifications, redis, prefix, queueShards);
for (const shard of notifications.shards) reportErrors(shard, `Queue ${shard.name}`, log);
const readinessChecks = [redisCheck(redis)];
const metrics = createMetricsRegistry('emitter');
registerDependencyHealth(metrics, readinessChecks);
registerQueueDepths(metrics, [...notifications.shards]);
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
const flushFollowWave = createFlushFollowWaveProcessor({
  waves: createFollowWaves(redis, prefix, config.followWaves),
  publisher,
});
const handlers = {
  [JOBS.notifyEvents]: notifyEvents,
  [JOBS.notifyEvent]: notifyEvents,
  [JOBS.flushFollowWave]: flushFollowWave,
};
const common = { connection: redis, redisPrefix: prefix, lockMs: config.workers.lockMs, log };
// EMITTER_CONCURRENCY is per shard, as the processor's is.
const concurrency = config.workers.emitterConcurrency;
const workers = workerShards.map((shard) =>
  createWorker({ ...common, queue: notifications.shards[shard]!.name, concurrency, handlers }),
);
const jobTimings = createJobTimings(metrics);
for (const worker of workers) jobTimings.watch(worker);
// Notifications queued by versions before the shards (single Redis only).
const legacy = redisConnections.isCluster
  ? undefined
  : startLegacyDrain({ ...common, queues: [{ kind: QUEUES.notifications, handlers }] });

shutdown.register('workers', 0, () => Promise.all(workers.map((worker) => worker.close())));
shutdown.register('legacy queues', 0, () => legacy?.close());
shutdown.register('health server', 0, () => health?.close());
shutdown.register('queues', 1, () => notifications.close());
shutdown.register('redis', 2, () => redisConnections.close());
shutdown.listen();
log.info('emitter started');
