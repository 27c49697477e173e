import { loadConfigOrExit } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { openProcessRedis } from '../shared/connections/process-redis.js';
import { createShutdown } from '../shared/shutdown.js';
import { createFeedCache } from '../shared/feed/feed-cache.js';
import { createRealtimeTokens } from '../shared/realtime-token.js';
import { createRealtimeServer } from './realtime-server.js';
import { createMetricsRegistry, registerDependencyHealth } from '../shared/metrics.js';
import { redisCheck } from '../shared/health.js';
import { exitOnListenError, listen } from '../shared/listen.js';

const config = loadConfigOrExit('realtime');
const log = createLogger(config.logLevel, 'realtime');
const shutdown = createShutdown(log, config.shutdownTimeoutMs);

const redisConnections = await openProcessRedis(config, 'realtime', log);
const redis = redisConnections.connect('realtime', 'command');
const subscriber = redisConnections.connect('realtime-sub', 'subscriber');
const feedSubscriber = redisConnections.connect('realtime-feeds', 'subscriber');
const metrics = createMetricsRegistry('realtime');
registerDependencyHealth(metrics, [redisCheck(redis)]);
const server = createRealtimeServer({
  redis,
  subscriber,
  feedSubscriber,
  prefix: config.redis.prefix,
  cache: createFeedCache(redis, config.redis.prefix),
  tokens: createRealtimeTokens(config.session.secret),
  log,
  corsOrigin: config.http.publicUrl,
  maxWatchesPerSocket: config.realtime.maxWatchesPerConnection,
  maxConnectionsPerUser: config.realtime.maxConnectionsPerUser,
  metrics: { registry: metrics, token: config.metricsToken },
});

shutdown.register('sockets', 0, () => server.close());
shutdown.register('redis', 2, () => redisConnections.close());
shutdown.listen();
await listen(server.http, config.http.port, 'PORT').catch(exitOnListenError(log));
log.info({ port: config.http.port }, `realtime listening on port ${config.http.port}`);
