import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { pino } from 'pino';
import { io as connectSocket, type Socket } from 'socket.io-client';
import type { StreamEvent } from '../../src/shared/events/event.js';
import { createFeedCache } from '../../src/shared/feed/feed-cache.js';
import { feedKeys } from '../../src/shared/feed/feed-keys.js';
import { createRealtimeTokens } from '../../src/shared/realtime-token.js';
import type { WatchAck } from '../../src/shared/realtime-protocol.js';
import { createFeedPublisher } from '../../src/workers/feed-publisher.js';
import { createRealtimeServer, type RealtimeServer } from '../../src/realtime/realtime-server.js';
import { createFeedSubscriptions } from '../../src/realtime/feed-subscriptions.js';
import { socketIoAdapter } from '../../src/realtime/socket-io-adapter.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { waitUntil } from '../helpers/simulator.js';

const SECRET = 'realtime-cluster-test-secret-of-32-chars!';

/**
 * Realtime nodes given Redis Cluster clients, as main.ts wires them with REDIS_CLUSTER_NODES:
 * watchers get their streamer's events over sharded pub/sub, and Socket.IO's own traffic between
 * nodes (serverSideEmit, fetchSockets) goes over the sharded adapter.
 */
describe('realtime nodes on a Redis Cluster', function () {
  this.timeout(60_000);
  let cluster: RedisCluster;
  let prefix: string;
  const clients: Cluster[] = [];
  const servers: RealtimeServer[] = [];
  const sockets: Socket[] = [];
  const tokens = createRealtimeTokens(SECRET);

  const newClient = (sharded: boolean) => {
    const client = new Cluster(
      cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
      {
        shardedSubscribers: sharded,
        redisOptions: { maxRetriesPerRequest: sharded ? null : 3 },
      },
    );
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };

  async function startNode(): Promise<{ server: RealtimeServer; url: string }> {
    const redis = newClient(false);
    const server = createRealtimeServer({
      redis,
      subscriber: newClient(true),
      feedSubscriber: newClient(true),
      prefix,
      cache: createFeedCache(redis, prefix),
      tokens,
      log: pino({ level: 'silent' }),
      corsOrigin: 'http://localhost',
      maxWatchesPerSocket: 10,
      maxConnectionsPerUser: 10,
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.http.listen(0, '127.0.0.1', resolve));
    return { server, url: `http://127.0.0.1:${(server.http.address() as AddressInfo).port}` };
  }

  async function connect(url: string, userId: string): Promise<Socket> {
    const socket = connectSocket(url, {
      auth: { token: await tokens.issue(userId) },
      transports: ['websocket'],
      reconnection: false,
    });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return socket;
  }

  /** Subscribers of a shard channel over all masters (each node counts its own). */
  async function shardSubscribersOf(channel: string): Promise<number> {
    const counts = await Promise.all(
      (await cluster.masters()).map(async ({ port }) => {
        const node = new Redis({ port });
        try {
          return Number(
            ((await node.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number])[1],
          );
        } finally {
          node.disconnect();
        }
      }),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  before(async () => {
    cluster = await startRedisCluster({ masters: 3 });
  });
  beforeEach(() => {
    prefix = `test-${randomUUID()}`;
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.disconnect();
    await Promise.all(servers.splice(0).map((server) => server.close()));
    for (const client of clients.splice(0)) client.disconnect();
  });
  after(async () => {
    await cluster?.stop();
  });

  it('delivers a watched streamer’s events to its watcher, and only on the node it watches from', async () => {
    const [one, two] = [await startNode(), await startNode()];
    const watcher = await connect(one.url, 'viewer-1');
    const idle = await connect(two.url, 'viewer-2');
    const received: StreamEvent[] = [];
    const idleReceived: StreamEvent[] = [];
    watcher.on('event', (event: StreamEvent) => received.push(event));
    idle.on('event', (event: StreamEvent) => idleReceived.push(event));
    const ack = (await watcher.timeout(5000).emitWithAck('watch', {
      broadcasterId: '4242',
    })) as WatchAck;
    assert.deepEqual(ack, { ok: true, backlog: [], complete: true });

    const publisherClient = newClient(false);
    const cache = createFeedCache(publisherClient, prefix);
    const publisher = createFeedPublisher(publisherClient, prefix);
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) {
      const entry = await cache.append(
        {
          id: `ev_${n}`,
          type: 'channel.follow',
          broadcasterId: '4242',
          broadcasterLogin: 'streamer',
          broadcasterName: 'Streamer',
          occurredAt: new Date().toISOString(),
          actor: null,
          summary: `event ${n}`,
          data: {},
        },
        null,
      );
      ids.push(entry.event.id);
      await publisher.publish([{ broadcasterId: '4242', seq: entry.seq, event: entry.event }]);
    }
    await waitUntil(() => received.length === 5, 5000, 'five events');
    assert.deepEqual(
      received.map((e) => e.id),
      ids,
    );
    assert.equal(idleReceived.length, 0);
    // Only the watching node subscribed to the streamer's channel.
    assert.equal(await shardSubscribersOf(`${prefix}:feed:{4242}:live`), 1);
    await publisherClient.del(...Object.values(feedKeys(prefix, '4242')));
  });

  it('refuses Cluster subscribers without shardedSubscribers, and a mix of client kinds', () => {
    const nodes = cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
    const plain = new Cluster(nodes, { lazyConnect: true });
    const sharded = new Cluster(nodes, { lazyConnect: true, shardedSubscribers: true });
    const single = new Redis({ lazyConnect: true });
    const log = pino({ level: 'silent' });
    assert.throws(
      () =>
        createFeedSubscriptions({
          subscriber: plain,
          prefix,
          onNotifications: () => undefined,
          log,
        }),
      /shardedSubscribers: true/,
    );
    assert.throws(() => socketIoAdapter(sharded, plain, prefix), /shardedSubscribers: true/);
    assert.throws(() => socketIoAdapter(single, sharded, prefix), /two Cluster clients/);
    assert.equal(typeof socketIoAdapter(plain, sharded, prefix), 'function');
    for (const client of [plain, sharded, single]) client.disconnect();
  });

  it('carries Socket.IO’s own traffic between nodes over the sharded adapter', async () => {
    const [one, two] = [await startNode(), await startNode()];
    await connect(one.url, 'viewer-1');
    await connect(two.url, 'viewer-2');
    type Plain = { serverSideEmit(event: string, ...args: unknown[]): boolean };
    const heard = new Promise<unknown>((resolve) => {
      (two.server.io as unknown as { on(event: string, fn: (arg: unknown) => void): void }).on(
        'hello',
        resolve,
      );
    });
    (one.server.io as unknown as Plain).serverSideEmit('hello', { from: 'one' });
    assert.deepEqual(await heard, { from: 'one' });
    // fetchSockets asks every node and waits for each answer: it counts nodes with SHARDNUMSUB.
    const all = await one.server.io.fetchSockets();
    assert.deepEqual(all.map((s) => s.data.userId).sort(), ['viewer-1', 'viewer-2']);
    // Sharded, "static": both nodes on the namespace's one shard channel, none on plain channels.
    assert.equal(await shardSubscribersOf(`${prefix}:socket.io#/#`), 2);
    const counts = await Promise.all(
      (await cluster.masters()).map(async ({ port }) => {
        const node = new Redis({ port });
        try {
          const plain = (await node.call('PUBSUB', 'CHANNELS', `${prefix}:*`)) as string[];
          return plain.length;
        } finally {
          node.disconnect();
        }
      }),
    );
    assert.deepEqual(counts, [0, 0, 0], 'no plain channels');
  });
});
