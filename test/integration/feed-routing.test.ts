import assert from 'node:assert/strict';
import type { StreamEvent } from '../../src/shared/events/event.js';
import { EVENTSUB_SECRET, startStack, type Stack } from '../helpers/stack.js';
import { followPayload } from '../helpers/twitch.js';
import { sendLikeTwitch } from '../helpers/twitch-sender.js';
import { waitUntil } from '../helpers/simulator.js';

const METRICS_TOKEN = 'feed-routing-metrics-token';
const STREAMERS = Array.from({ length: 100 }, (_, i) => String(7000 + i));

/**
 * Delivery by streamer (#13): emitters publish each streamer's events on that streamer's channel,
 * and a realtime node subscribes to the channels of the streamers its own sockets watch.
 */
describe('live events reach only the realtime nodes that watch their streamer', function () {
  this.timeout(90_000);
  let stack: Stack;

  before(async () => {
    stack = await startStack({
      env: { METRICS_TOKEN, REALTIME_MAX_WATCHES_PER_CONNECTION: '100' },
    });
  });
  after(async () => {
    await stack?.stop();
  });

  /** Events a node took from Redis pub/sub, from its own metrics. */
  async function receivedBy(node: 'realtime1' | 'realtime2' | 'realtime3'): Promise<number> {
    const response = await fetch(`http://127.0.0.1:${stack.portOf(node)}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    const text = await response.text();
    const value = text.match(/^streamfeed_feed_events_received_total(?:\{[^}]*\})? (\d+)$/m)?.[1];
    assert.ok(value !== undefined, `no streamfeed_feed_events_received_total on ${node}`);
    return Number(value);
  }

  const followEach = async (broadcasterIds: string[], user: string) => {
    const report = await sendLikeTwitch({
      webhookUrl: stack.webhookUrl,
      secret: EVENTSUB_SECRET,
      payloads: broadcasterIds.map((id) => followPayload(id, `${user}${id}`)),
      concurrency: 8,
    });
    assert.equal(report.acknowledged, broadcasterIds.length);
  };

  it('two nodes each watching a different half of 100 streamers get only their own; a third gets none', async () => {
    const half = STREAMERS.slice(0, 50);
    const otherHalf = STREAMERS.slice(50);
    await stack.startNode('realtime3', 'realtime');
    const watcher = await stack.watcher(0);
    for (const id of half) assert.equal((await watcher.watch(id)).ok, true);
    const otherWatcher = await stack.watcher(1, 'viewer-2');
    for (const id of otherHalf) assert.equal((await otherWatcher.watch(id)).ok, true);
    const before = {
      one: await receivedBy('realtime1'),
      two: await receivedBy('realtime2'),
      three: await receivedBy('realtime3'),
    };

    await followEach(STREAMERS, 'a');
    await watcher.waitFor(50);
    await otherWatcher.waitFor(50);
    // The pipeline is done with the watched half; give the other half as long to arrive anywhere.
    await waitUntil(
      async () => (await stack.knex('events').whereIn('broadcaster_id', STREAMERS)).length === 100,
      20_000,
      'all 100 stored',
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await receivedBy('realtime1')) - before.one, 50, 'realtime1: its own half only');
    assert.equal((await receivedBy('realtime2')) - before.two, 50, 'realtime2: its own half only');
    assert.equal((await receivedBy('realtime3')) - before.three, 0, 'realtime3: nothing');
    assert.deepEqual(
      new Set(watcher.received.map((e: StreamEvent) => e.broadcasterId)),
      new Set(half),
    );
    assert.deepEqual(
      new Set(otherWatcher.received.map((e: StreamEvent) => e.broadcasterId)),
      new Set(otherHalf),
    );
    otherWatcher.socket.disconnect();

    // The last watcher gone, the node unsubscribes: later events of those streamers pass it by.
    for (const id of half) {
      assert.deepEqual(
        await watcher.socket.timeout(5000).emitWithAck('unwatch', { broadcasterId: id }),
        { ok: true },
      );
    }
    const afterUnwatch = await receivedBy('realtime1');
    await followEach(half, 'b');
    await waitUntil(
      async () => (await stack.knex('events').whereIn('broadcaster_id', half)).length === 100,
      20_000,
      'the second 50 stored',
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await receivedBy('realtime1'), afterUnwatch, 'nothing after the unwatch');
  });

  it('loses nothing in flight while a node subscribes: each first watcher sees an unbroken feed', async () => {
    const broadcasterId = '7999';
    // A steady stream for one streamer, while watchers on a node with no other watcher of it
    // come and go: each watch makes the node subscribe anew.
    const sending = sendLikeTwitch({
      webhookUrl: stack.webhookUrl,
      secret: EVENTSUB_SECRET,
      payloads: Array.from({ length: 400 }, (_, i) => followPayload(broadcasterId, `s${i}`)),
      concurrency: 4,
      ratePerSecond: 200,
    });
    const views: StreamEvent[][] = [];
    for (let round = 0; round < 12; round++) {
      const watcher = await stack.watcher(1, `viewer-${round}`);
      const ack = await watcher.watch(broadcasterId);
      assert.equal(ack.ok, true);
      await new Promise((resolve) => setTimeout(resolve, 80 + Math.random() * 80));
      const seen = [...(ack.ok ? ack.backlog : []), ...watcher.received];
      watcher.socket.disconnect();
      views.push(seen);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal((await sending).acknowledged, 400);
    // The whole feed in arrival order, from the first event the first watcher saw.
    const order: string[] = [views[0]![0]!.id];
    let after = views[0]![0]!.id;
    for (;;) {
      const next = await fetch(
        `${stack.webUrl}/api/streamers/${broadcasterId}/events?limit=100&after=${after}`,
      );
      const body = (await next.json()) as { events: StreamEvent[]; more: boolean };
      order.push(...body.events.map((e) => e.id));
      if (!body.more || body.events.length === 0) break;
      after = body.events.at(-1)!.id;
    }
    for (const [round, seen] of views.entries()) {
      assert.ok(seen.length > 0, `round ${round} saw events`);
      const start = order.indexOf(seen[0]!.id);
      assert.ok(start >= 0, `round ${round}: its first event is stored`);
      assert.deepEqual(
        seen.map((e) => e.id),
        order.slice(start, start + seen.length),
        `round ${round}: an unbroken run of the feed, once each`,
      );
    }
  });
});
