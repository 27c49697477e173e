import { createServer } from 'node:http';
import { loadConfigOrExit } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { reportErrors, waitForRedis } from '../shared/connections/redis.js';
import { openProcessRedis } from '../shared/connections/process-redis.js';
import { createDatabase } from '../shared/connections/database.js';
import { createShutdown } from '../shared/shutdown.js';
import { QUEUES, createShardedQueue } from '../shared/queues.js';
import { createFeedCache } from '../shared/feed/feed-cache.js';
import { createEventStore } from '../shared/db/event-store.js';
import { databaseCheck, redisCheck } from '../shared/health.js';
import { exitOnListenError, listen } from '../shared/listen.js';
import { createWebApp } from './app.js';
import { createViewerFeatures } from './auth/viewer-features.js';
import { pageRoutes } from './routes/pages.routes.js';
import { createRateLimits } from './rate-limits.js';
import { createRejectedCallbacks } from './webhooks/rejected-callbacks.js';
import { processedMessageKey } from '../shared/events/processed-messages.js';
import { createDrain } from './drain.js';
import { createReplicaAck } from '../shared/connections/replica-ack.js';
import {
  createMetricsRegistry,
  registerDependencyHealth,
  serveMetrics,
} from '../shared/metrics.js';
import { httpMetrics } from './http-metrics.js';
import { QUEUE_DASHBOARD_PATH, queueDashboard } from './admin/queue-dashboard.js';

const config = loadConfigOrExit('web');
const log = createLogger(config.logLevel, 'web');
const shutdown = createShutdown(log, config.shutdownTimeoutMs);

// Auto-pipelining: the commands of concurrent webhooks go to Redis in one write per tick.
const redisConnections = await openProcessRedis(config, 'web', log);
const redis = redisConnections.connect('web', 'command', { enableAutoPipelining: true });
const knex = createDatabase(config.db.url, {
  log,
  statementTimeoutMs: config.db.statementTimeoutMs,
});
// The dashboard's own handles on every shard of every queue; web only queues callbacks itself.
const queues = Object.values(QUEUES).map((kind) =>
  createShardedQueue(kind, redis, config.redis.prefix, config.redis.queueShards),
);
const dashboardQueues = queues.flatMap((queue) => queue.shards);
for (const queue of dashboardQueues) reportErrors(queue, `Queue ${queue.name}`, log);
const callbacks = queues.find((queue) => queue.kind === QUEUES.callbacks)!;
const drain = createDrain();
const readinessChecks = [redisCheck(redis), databaseCheck(knex)];
const metrics = createMetricsRegistry('web');
registerDependencyHealth(metrics, readinessChecks);
const metricsEndpoint = serveMetrics(metrics, config.metricsToken);
const viewer = createViewerFeatures(config, redis, knex, log);
const app = createWebApp({
  log,
  publicUrl: config.http.publicUrl,
  eventSubSecret: config.twitch.eventSubSecret,
  webhookBodyLimit: config.webhook.bodyLimit,
  callbacks,
  ...(config.redis.ackReplicas > 0
    ? {
        confirmReplicated: createReplicaAck(
          redis,
          config.redis.ackReplicas,
          config.redis.ackTimeoutMs,
        ),
      }
    : {}),
  // Not ready yet (or away): not known as processed; the enqueue then answers 202 or 503.
  isProcessed: async (messageId) =>
    redis.status === 'ready' &&
    (await redis.exists(processedMessageKey(config.redis.prefix, messageId))) === 1,
  rejectedCallbacks: createRejectedCallbacks(redis, config.redis.prefix),
  cache: createFeedCache(redis, config.redis.prefix),
  history: createEventStore(knex),
  readinessChecks,
  drain,
  trustProxy: config.http.trustProxy,
  queueDashboard: {
    path: QUEUE_DASHBOARD_PATH,
    router: queueDashboard({ queues: dashboardQueues, operators: config.operators, log }),
  },
  metrics: {
    record: httpMetrics(metrics),
    serve: metricsEndpoint,
  },
  viewer: viewer.router,
  rateLimits: createRateLimits({
    redis,
    redisPrefix: config.redis.prefix,
    ...config.rateLimits,
    log,
  }),
  pages: pageRoutes({
    publicUrl: config.http.publicUrl,
    realtimeUrl: config.http.realtimeUrl,
    embeds: config.twitch.authUrl === 'https://id.twitch.tv/oauth2',
  }),
});

const server = createServer(app);
// Expect: 100-continue: web decides, so that an oversized body is refused rather than invited.
server.on('checkContinue', app.checkContinue);
server.keepAliveTimeout = 65_000;

shutdown.register('drain', 0, async () => {
  drain.start();
  if (config.webDrainMs === 0) return;
  log.info(
    `Draining for ${config.webDrainMs} ms: /readyz fails, connections close after each reply`,
  );
  await new Promise((resolve) => setTimeout(resolve, config.webDrainMs));
});
shutdown.register('http server', 1, () => new Promise((resolve) => server.close(resolve)));
shutdown.register('idle connections', 1, () => server.closeIdleConnections());
shutdown.register('queues', 2, () => Promise.all(dashboardQueues.map((queue) => queue.close())));
shutdown.register('viewer features', 2, () => viewer.close());
shutdown.register('redis', 3, () => redisConnections.close());
shutdown.register('postgres', 3, () => knex.destroy());
shutdown.listen();
// Serve once Redis answers, so that the first requests do not meet an unconnected client; after
// 5 s without it, serve anyway (/readyz says Redis is down, and balancers wait for it).
await waitForRedis(redis, 'web', 5000).catch((error: Error) =>
  log.warn(`${error.message}: serving anyway, /readyz fails until it answers`),
);
await listen(server, config.http.port, 'PORT').catch(exitOnListenError(log));
log.info({ port: config.http.port }, `web listening on port ${config.http.port}`);
