import { createServer, type Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { RedisClient } from '../shared/connections/redis.js';
import type { Logger } from '../shared/logger.js';
import type { FeedCache } from '../shared/feed/feed-cache.js';
import type { RealtimeTokens } from '../shared/realtime-token.js';
import type { FeedNotification, NotifyEventJob } from '../shared/queues.js';
import {
  FEED_EVENT,
  FEED_EVENTS,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from '../shared/realtime-protocol.js';
import { readinessProbe, redisCheck } from '../shared/health.js';
import { serveMetrics } from '../shared/metrics.js';
import { Counter, Gauge, type Registry } from 'prom-client';
import { STREAMER_ROOM_PREFIX } from '../shared/rooms.js';
import { createRoomFeeds } from './room-feeds.js';
import type { Signal } from './room-feed.js';
import { createFeedSubscriptions } from './feed-subscriptions.js';
import { socketIoAdapter } from './socket-io-adapter.js';
import { createViewerConnections } from './viewer-connections.js';
import {
  leave,
  onUnwatch,
  onWatch,
  type SocketData,
  type ViewerSocket,
  type WatchDeps,
} from './watch.handlers.js';

export interface RealtimeDeps {
  /** Fails fast, so that a watch is refused rather than left hanging while Redis is away. */
  redis: RedisClient;
  /**
   * Put in subscriber mode by the Socket.IO adapter; waits for Redis forever. A Cluster when
   * `redis` is one (socket-io-adapter.ts), with `shardedSubscribers: true`.
   */
  subscriber: RedisClient;
  /**
   * The streamers' feed channels (feed-subscriptions.ts): a client of its own, not `subscriber`,
   * whose adapter messages it would otherwise see. On a Cluster, `shardedSubscribers: true`.
   */
  feedSubscriber: RedisClient;
  prefix: string;
  cache: FeedCache;
  tokens: RealtimeTokens;
  log: Logger;
  corsOrigin: string | string[];
  maxWatchesPerSocket: number;
  /** Open sockets one viewer may hold on this node; tokens are bearer, so one could open many. */
  maxConnectionsPerUser: number;
  /** Where to register this node's metrics, served on `/metrics` to holders of `token`. */
  metrics?: { registry: Registry; token: string | undefined };
}

export interface RealtimeServer {
  http: HttpServer;
  io: Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
  close(): Promise<void>;
}

/** A Socket.IO node on the Redis adapter; every node delivers to its own sockets only. */
export function createRealtimeServer(deps: RealtimeDeps): RealtimeServer {
  const log = deps.log.child({ scope: 'realtime' });
  const metricsEndpoint = deps.metrics && serveMetrics(deps.metrics.registry, deps.metrics.token);
  const readiness = readinessProbe([redisCheck(deps.redis)], log);
  const http = createServer((req, res) => {
    if (metricsEndpoint?.(req, res)) return;
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    if (req.url === '/readyz') {
      void readiness().then((result) => {
        res
          .writeHead(result.ok ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify(result));
      });
      return;
    }
    // Engine.IO answers under '/socket.io/' only: anything else, '/socket.io' itself included,
    // is not ours and must be answered here, or it hangs.
    if (!req.url?.startsWith('/socket.io/')) res.writeHead(404).end();
  });
  const io: RealtimeServer['io'] = new Server(http, {
    path: '/socket.io',
    cors: { origin: deps.corsOrigin, credentials: true },
    maxHttpBufferSize: 16 * 1024,
    adapter: socketIoAdapter(deps.redis, deps.subscriber, deps.prefix),
  });
  io.of('/').adapter.on('error', (error: Error) =>
    log.error({ err: error }, `Socket.IO adapter: ${error.message}`),
  );

  const { delivered, received } = registerNodeMetrics(io, deps.metrics?.registry);
  const takeNotifications = (notifications: FeedNotification[]) => {
    received?.inc(notifications.length);
    for (const notification of notifications) feeds.onNotification(notification);
  };
  const subscriptions = createFeedSubscriptions({
    subscriber: deps.feedSubscriber,
    prefix: deps.prefix,
    onNotifications: takeNotifications,
    log,
  });
  const localRooms = io.of('/').adapter.rooms;
  const feeds = createRoomFeeds(
    deps.cache,
    {
      toRoom: (room, except, event) => {
        io.local.to(room).except(except).emit('event', event);
        delivered?.inc(Math.max(0, (localRooms.get(room)?.size ?? 0) - except.length));
      },
      toSocket: (socketId, event) => {
        io.local.to(socketId).emit('event', event);
        delivered?.inc();
      },
      signalRoom: (room, except, signal) => emitSignal(io.local.to(room).except(except), signal),
      signalSocket: (socketId, signal) => emitSignal(io.local.to(socketId), signal),
    },
    (error) => log.error({ err: error }, 'Room feed step failed'),
    subscriptions,
  );
  // Emitters of earlier versions publish every event to every node with serverSideEmit: taken
  // until they are all restarted (ARCHITECTURE.md, rolling deploys).
  io.on(
    FEED_EVENTS as 'connection',
    ((notifications: FeedNotification[]) => {
      if (Array.isArray(notifications)) takeNotifications(notifications);
    }) as never,
  );
  io.on(
    FEED_EVENT as 'connection',
    ((notification: NotifyEventJob) => takeNotifications([notification])) as never,
  );

  const { maxConnectionsPerUser } = deps;
  const viewers = createViewerConnections(maxConnectionsPerUser);
  io.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    deps.tokens.verify(token).then(
      (userId) => {
        if (!viewers.admit(userId, socket)) {
          log.warn(
            { userId },
            `Refused connection ${viewers.held(userId) + 1} of viewer ${userId}`,
          );
          next(
            new Error(`too many connections: at most ${maxConnectionsPerUser} per viewer and node`),
          );
          return;
        }
        socket.data.userId = userId;
        socket.data.watching = new Set();
        next();
      },
      (error: Error) => next(new Error(`unauthorized: ${error.message}`)),
    );
  });

  const watchDeps: WatchDeps = {
    feeds,
    localWatchers: (room) => io.of('/').adapter.rooms.get(room)?.size ?? 0,
    maxWatchesPerSocket: deps.maxWatchesPerSocket,
    backlogSize: 10,
    log,
  };
  io.on('connection', (socket: ViewerSocket) => {
    socket.on('watch', onWatch(socket, watchDeps));
    socket.on('unwatch', onUnwatch(socket, watchDeps));
    socket.on('disconnect', () => {
      for (const id of [...socket.data.watching]) leave(socket, id, watchDeps);
      viewers.release(socket.data.userId, socket);
    });
  });

  return {
    http,
    io,
    async close() {
      // Closes each connection without a disconnect packet: to a client that is a lost
      // transport, so it reconnects (to another node) and catches up with `since`. A
      // server-side disconnect would tell Socket.IO clients not to reconnect at all.
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}

/** `event:updated` or `event:replayed`, each with its own payload type. */
function emitSignal(target: { emit: RealtimeServer['io']['emit'] }, signal: Signal): void {
  if (signal.name === 'event:updated') target.emit(signal.name, signal.payload);
  else target.emit(signal.name, signal.payload);
}

/**
 * Sockets connected and streamers watched on this node (read at scrape time), and a counter of
 * events delivered to its sockets, which it returns.
 */
function registerNodeMetrics(io: RealtimeServer['io'], registry: Registry | undefined) {
  if (!registry) return {};
  const namespace = io.of('/');
  new Gauge({
    name: 'streamfeed_sockets_connected',
    help: 'Viewer sockets connected to this realtime node',
    registers: [registry],
    collect() {
      this.set(namespace.sockets.size);
    },
  });
  new Gauge({
    name: 'streamfeed_streamers_watched',
    help: 'Streamers with at least one watcher on this realtime node',
    registers: [registry],
    collect() {
      let rooms = 0;
      for (const room of namespace.adapter.rooms.keys()) {
        if (room.startsWith(STREAMER_ROOM_PREFIX)) rooms++;
      }
      this.set(rooms);
    },
  });
  return {
    delivered: new Counter({
      name: 'streamfeed_deliveries_total',
      help: 'Events sent to viewer sockets by this realtime node (one per socket)',
      registers: [registry],
    }),
    received: new Counter({
      name: 'streamfeed_feed_events_received_total',
      help: 'Events this realtime node took from Redis pub/sub: those of the streamers it watches',
      registers: [registry],
    }),
  };
}
