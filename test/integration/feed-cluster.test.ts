import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { pino } from 'pino';
import type { StreamEvent } from '../../src/shared/events/event.js';
import { createFeedCache, type FeedCache } from '../../src/shared/feed/feed-cache.js';
import { feedChannel } from '../../src/shared/feed/feed-channels.js';
import { feedKeys } from '../../src/shared/feed/feed-keys.js';
import type { NotifyEventJob } from '../../src/shared/queues.js';
import { createFeedPublisher, type FeedPublisher } from '../../src/workers/feed-publisher.js';
import { createFeedSubscriptions } from '../../src/realtime/feed-subscriptions.js';
import { createRoomFeeds } from '../../src/realtime/room-feeds.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { keySlot, moveSlot, ownerOf } from '../helpers/slot-migration.js';
import { waitUntil } from '../helpers/simulator.js';

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fail = (error: unknown) => assert.fail(String(error));

const makeEvent = (broadcasterId: string, n: number): StreamEvent => ({
  id: `ev_${broadcasterId}_${n}_${randomUUID()}`,
  type: 'channel.follow',
  broadcasterId,
  broadcasterLogin: `login${broadcasterId}`,
  broadcasterName: `Name${broadcasterId}`,
  occurredAt: new Date().toISOString(),
  actor: null,
  summary: `event ${n}`,
  data: {},
});
const note = (broadcasterId: string, seq: number): NotifyEventJob => ({
  broadcasterId,
  seq,
  event: makeEvent(broadcasterId, seq),
});

/** One command to one node, outside the cluster client (PUBSUB and CLIENT are per node). */
async function askNode(port: number, ...args: (string | number)[]): Promise<unknown> {
  const redis = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await redis.call(args[0] as string, ...args.slice(1));
  } finally {
    redis.disconnect();
  }
}
const shardSubscribers = async (port: number, channel: string) =>
  Number(((await askNode(port, 'PUBSUB', 'SHARDNUMSUB', channel)) as [string, number])[1]);

/**
 * Delivery by streamer on a Redis Cluster (#13): SPUBLISH on the shard that owns the streamer,
 * SSUBSCRIBE by the nodes that watch it, and RoomFeed's guarantees (exactly once, seq order, gap
 * fill, the backlog boundary) kept through a subscribe and a slot move.
 */
describe('per-streamer delivery on a Redis Cluster (sharded pub/sub)', function () {
  this.timeout(60_000);
  let cluster: RedisCluster;
  let masterPorts: number[];
  let prefix: string;
  let used: string[];
  const clients: Cluster[] = [];

  const startupNodes = () => cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  const track = (client: Cluster) => {
    client.on('error', () => undefined); // a slot move makes ioredis report its MOVED replies
    clients.push(client);
    return client;
  };
  /** As the realtime node's `redis` and the emitter's: commands, feed cache, publishes. */
  const commandClient = () =>
    track(new Cluster(startupNodes(), { redisOptions: { maxRetriesPerRequest: 3 } }));
  /** As the realtime node's feed subscriber: sharded subscribers, waiting for Redis forever. */
  const subscriberClient = () =>
    track(
      new Cluster(startupNodes(), {
        shardedSubscribers: true,
        redisOptions: { maxRetriesPerRequest: null },
      }),
    );

  /** Streamers whose channels (and feed keys) live on `count` different masters. */
  async function streamersOnDistinctMasters(count: number): Promise<string[]> {
    const byMaster = new Map<number, string>();
    for (let i = 0; byMaster.size < count; i++) {
      const id = String(90_000 + i);
      const owner = await ownerOf(
        masterPorts[0]!,
        await keySlot(masterPorts[0]!, feedChannel(prefix, id)),
      );
      if (!byMaster.has(owner)) byMaster.set(owner, id);
    }
    used.push(...byMaster.values());
    return [...byMaster.values()];
  }

  /** Appends to the real feed cache and publishes each event, one after another, until stopped. */
  function publishSteadily(
    cache: FeedCache,
    publisher: FeedPublisher,
    broadcasterId: string,
    pauseMs = 2,
  ) {
    let stopped = false;
    const published: number[] = [];
    const done = (async () => {
      for (let n = 0; !stopped; n++) {
        const entry = await append(cache, makeEvent(broadcasterId, n));
        await publisher.publish([{ broadcasterId, seq: entry.seq, event: entry.event }]);
        published.push(entry.seq);
        if (pauseMs > 0) await sleep(pauseMs);
        else await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    return {
      published,
      async stop() {
        stopped = true;
        await done;
      },
    };
  }

  /**
   * One realtime node's delivery path without Socket.IO: feed subscriptions, room feeds on a
   * feed cache that counts its gap fills, and one viewer socket at a time.
   */
  function startNode(subscriber: Cluster, cache: FeedCache) {
    const live: NotifyEventJob[] = [];
    let gapFills = 0;
    const counted: FeedCache = {
      ...cache,
      range(broadcasterId, from, to) {
        gapFills++; // joins here pass no `since`, so only a gap fill reads a range
        return cache.range(broadcasterId, from, to);
      },
    };
    const viewer = { id: '', seen: [] as StreamEvent[] };
    const subscriptions = createFeedSubscriptions({
      subscriber,
      prefix,
      onNotifications: (notifications) => {
        live.push(...(notifications as NotifyEventJob[])); // events only, here
        for (const n of notifications) feeds.onNotification(n);
      },
      log,
    });
    const feeds = createRoomFeeds(
      counted,
      {
        toRoom: (_room, except, event) => {
          if (viewer.id && !except.includes(viewer.id)) viewer.seen.push(event);
        },
        toSocket: (socketId, event) => {
          if (socketId === viewer.id) viewer.seen.push(event);
        },
      },
      fail,
      subscriptions,
    );
    return {
      live,
      viewer,
      subscriptions,
      feeds,
      gapFills: () => gapFills,
      /** A first watcher joins: the node subscribes. Returns the viewer's events so far. */
      async watch(broadcasterId: string, socketId: string) {
        viewer.id = socketId;
        viewer.seen = [];
        const feed = feeds.get(broadcasterId);
        const backlog = await feed.join(socketId, () => undefined, undefined, 10);
        assert.ok(backlog, 'the feed was not released meanwhile');
        viewer.seen.unshift(...backlog.events);
        feed.release(socketId);
        return viewer.seen;
      },
      leave(broadcasterId: string) {
        viewer.id = '';
        feeds.release(broadcasterId, 0);
      },
    };
  }

  /** The seq the feed cache gave each event this test appended (its index forgets old ones). */
  const seqById = new Map<string, number>();
  const append = async (cache: FeedCache, event: StreamEvent) => {
    const entry = await cache.append(event, null);
    seqById.set(entry.event.id, entry.seq);
    return entry;
  };
  const seqsOf = (events: StreamEvent[]) => events.map((e) => seqById.get(e.id) ?? -1);

  const assertUnbrokenRun = (seqs: number[], what: string) => {
    assert.ok(seqs.length > 0, `${what}: saw events`);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => seqs[0]! + i),
      `${what}: consecutive seqs, each once, in order`,
    );
  };

  before(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    masterPorts = (await cluster.masters()).map((m) => m.port);
  });
  beforeEach(() => {
    prefix = `test-${randomUUID()}`;
    used = [];
  });
  afterEach(async () => {
    const cleaner = commandClient();
    for (const id of used) await cleaner.del(...Object.values(feedKeys(prefix, id)));
    for (const client of clients.splice(0)) client.disconnect();
  });
  after(async () => {
    await cluster?.stop();
  });

  it('a node subscribed to A and B gets their messages, not C’s, and none after unsubscribing', async () => {
    const [a, b, c] = (await streamersOnDistinctMasters(3)) as [string, string, string];
    const publisher = createFeedPublisher(commandClient(), prefix);
    const got: NotifyEventJob[] = [];
    const subscriptions = createFeedSubscriptions({
      subscriber: subscriberClient(),
      prefix,
      onNotifications: (notifications) => got.push(...(notifications as NotifyEventJob[])),
      log,
    });
    await Promise.all([subscriptions.subscribe(a), subscriptions.subscribe(b)]);

    await publisher.publish([note(c, 1), note(a, 1), note(b, 1), note(a, 2), note(c, 2)]);
    await waitUntil(() => got.length >= 3, 5000, 'the messages of A and B');
    await sleep(300);
    const seen = got.map((n) => `${n.broadcasterId}:${n.seq}`).sort();
    assert.deepEqual(seen, [`${a}:1`, `${a}:2`, `${b}:1`].sort());
    // Sharded: each channel has its subscriber on the master that owns it, and nowhere else.
    for (const [id, expected] of [
      [a, 1],
      [b, 1],
      [c, 0],
    ] as const) {
      const owner = await ownerOf(
        masterPorts[0]!,
        await keySlot(masterPorts[0]!, feedChannel(prefix, id)),
      );
      for (const port of masterPorts) {
        assert.equal(
          await shardSubscribers(port, feedChannel(prefix, id)),
          port === owner ? expected : 0,
          `subscribers of ${id} on ${port}`,
        );
      }
    }

    subscriptions.unsubscribe(a);
    subscriptions.unsubscribe(b);
    await waitUntil(
      async () =>
        (
          await Promise.all(
            masterPorts.map((port) => shardSubscribers(port, feedChannel(prefix, a))),
          )
        ).every((n) => n === 0),
      5000,
      'the unsubscribe',
    );
    await publisher.publish([note(a, 3), note(b, 2), note(c, 3)]);
    await sleep(300);
    assert.equal(got.length, 3, 'nothing after the unsubscribe');
  });

  it('holds one subscriber connection per master however many streamers it subscribes', async () => {
    const subscriber = subscriberClient();
    const subscriptions = createFeedSubscriptions({
      subscriber,
      prefix,
      onNotifications: () => undefined,
      log,
    });
    const ids = Array.from({ length: 300 }, (_, i) => String(50_000 + i));
    await Promise.all(ids.map((id) => subscriptions.subscribe(id)));
    const perMaster = await Promise.all(
      masterPorts.map(async (port) => {
        const clientList = String(await askNode(port, 'CLIENT', 'LIST'));
        // `ssub=` is the count of shard channels a connection holds.
        return clientList
          .split('\n')
          .filter((line) => / name=\S*ssubscriber/.test(line))
          .map((line) => Number(/ ssub=(\d+)/.exec(line)?.[1]));
      }),
    );
    // Each master: one connection, holding the channels of its own slots (about a third).
    assert.deepEqual(
      perMaster.map((connections) => connections.length),
      [1, 1, 1],
    );
    assert.equal(
      perMaster.flat().reduce((sum, n) => sum + n, 0),
      300,
    );
    assert.equal(subscriptions.size, 300);
  });

  it('loses nothing in flight while a node subscribes: each first watcher sees an unbroken feed', async () => {
    const [streamer] = (await streamersOnDistinctMasters(1)) as [string];
    const command = commandClient();
    const cache = createFeedCache(command, prefix);
    const node = startNode(subscriberClient(), cache);
    const sending = publishSteadily(cache, createFeedPublisher(command, prefix), streamer);
    await sleep(100);
    try {
      for (let round = 0; round < 12; round++) {
        const seen = await node.watch(streamer, `viewer-${round}`);
        await sleep(80 + Math.random() * 80);
        // Everything cached by now reaches the viewer: none was lost at the subscribe.
        const upTo = await cache.currentSeq(streamer);
        await waitUntil(
          () => (seqsOf(seen.slice(-1))[0] ?? -1) >= upTo,
          5000,
          `round ${round} to catch up with seq ${upTo}`,
        );
        node.leave(streamer);
        const seqs = seqsOf(seen);
        assertUnbrokenRun(seqs, `round ${round}`);
        assert.ok(seqs.length > 10, `round ${round} got live events beyond its backlog of 10`);
        await sleep(20);
      }
    } finally {
      await sending.stop();
    }
    // No event came from a gap fill: each one after a round's boundary arrived live.
    assert.equal(node.gapFills(), 0, 'gap fills');
  });

  it('subscribes a first watcher of a streamer whose slot moved since the node last looked', async () => {
    const [streamer, neighbour] = (await streamersOnDistinctMasters(2)) as [string, string];
    const command = commandClient();
    const cache = createFeedCache(command, prefix);
    const node = startNode(subscriberClient(), cache);
    // The node knows the cluster (and holds a subscriber connection) before the slot moves.
    await node.watch(neighbour, 'other-viewer');
    const slot = await keySlot(masterPorts[0]!, feedChannel(prefix, streamer));
    const owner = await ownerOf(masterPorts[0]!, slot);
    await moveSlot(
      masterPorts,
      slot,
      masterPorts.find((port) => port !== owner)!,
    );

    const seen = await node.watch(streamer, 'viewer');
    const entry = await append(cache, makeEvent(streamer, 1));
    await createFeedPublisher(command, prefix).publish([
      { broadcasterId: streamer, seq: entry.seq, event: entry.event },
    ]);
    await waitUntil(() => seen.length === 1, 5000, 'the event after the move');
    assert.equal(seen[0]!.id, entry.event.id);
  });

  it('after the slot of a watched streamer moves to another master, later events arrive and the gap is filled, once each', async () => {
    const [streamer] = (await streamersOnDistinctMasters(1)) as [string];
    const channel = feedChannel(prefix, streamer);
    const slot = await keySlot(masterPorts[0]!, channel);
    assert.equal(slot, await keySlot(masterPorts[0]!, feedKeys(prefix, streamer).seq), 'one slot');
    const command = commandClient();
    const cache = createFeedCache(command, prefix);
    const node = startNode(subscriberClient(), cache);
    const seen = await node.watch(streamer, 'viewer');
    const sending = publishSteadily(cache, createFeedPublisher(command, prefix), streamer, 0);
    let moved: { fromPort: number; keysMoved: number };
    let lastBeforeMove: number;
    try {
      await sleep(300);
      const owner = await ownerOf(masterPorts[0]!, slot);
      lastBeforeMove = sending.published.at(-1) ?? 0;
      moved = await moveSlot(
        masterPorts,
        slot,
        masterPorts.find((port) => port !== owner)!,
      );
      await sleep(800);
    } finally {
      await sending.stop();
    }
    const last = sending.published.at(-1)!;
    // Nothing follows the last publish: one more event makes the feed fill a gap at the end.
    const extra = await append(cache, makeEvent(streamer, -1));
    await createFeedPublisher(command, prefix).publish([
      { broadcasterId: streamer, seq: extra.seq, event: extra.event },
    ]);
    await waitUntil(
      () => (seqsOf(seen.slice(-1))[0] ?? -1) === extra.seq,
      10_000,
      `the viewer to reach seq ${extra.seq}`,
    );

    assert.ok(moved.keysMoved >= 3, `the streamer's feed keys moved (${moved.keysMoved})`);
    const newOwner = await ownerOf(masterPorts[0]!, slot);
    assert.notEqual(newOwner, moved.fromPort);
    assert.equal(await shardSubscribers(newOwner, channel), 1, 'resubscribed on the new owner');
    assert.equal(await shardSubscribers(moved.fromPort, channel), 0, 'and not on the old one');

    const seqs = seqsOf(seen);
    assertUnbrokenRun(seqs, 'the viewer');
    assert.equal(seqs.at(-1), extra.seq);
    const arrivedLive = new Set(node.live.map((n) => n.seq));
    const filled = seqs.filter((seq) => !arrivedLive.has(seq));
    assert.ok(
      [...arrivedLive].some((seq) => seq > lastBeforeMove! + filled.length),
      'live events after the move',
    );
    assert.ok(seqs.at(-1)! > last, 'the feed went on past the move');
    // Published as fast as one client can: the move's gap is never empty, and what it lost falls
    // inside the move and came from the cache.
    assert.ok(filled.length > 0, 'pub/sub lost some events in the move');
    assert.ok(filled.every((seq) => seq > lastBeforeMove! && seq <= last));
    assert.ok(node.gapFills() > 0);
    console.log(
      `      slot ${slot} moved ${moved.fromPort} -> ${newOwner}: ${seqs.length} events, ` +
        `${filled.length} lost by pub/sub in the move and delivered by gap fill ` +
        `(${node.gapFills()} fills)`,
    );
  });
});
