import assert from 'node:assert/strict';
import { RoomFeed, type LocalDelivery } from '../../src/realtime/room-feed.js';
import { event, fakeFeedCache } from '../helpers/room-feed-fixtures.js';

function recorder() {
  const log: string[] = [];
  const delivery: LocalDelivery = {
    toRoom: (_room, except, e) =>
      log.push(`room:${e.id}${except.length ? ` except ${except.join(',')}` : ''}`),
    toSocket: (socketId, e) => log.push(`${socketId}:${e.id}`),
  };
  return { log, delivery };
}

const fail = (error: unknown) => assert.fail(String(error));

describe('RoomFeed', () => {
  it('delivers each sequence number once, in order, filling gaps from the cache', async () => {
    const cache = fakeFeedCache([1, 2].map((n) => ({ seq: n, event: event(n) })));
    const { log, delivery } = recorder();
    const feed = new RoomFeed('1337', cache, delivery, fail);
    assert.deepEqual(await feed.join('s1', () => undefined, undefined, 10), {
      events: [event(1), event(2)],
      complete: true,
    });
    feed.release('s1');
    [3, 4, 5].forEach((n) => cache.add(n));
    await feed.deliver(3, event(3));
    await feed.deliver(3, event(3)); // a duplicate emission
    await feed.deliver(5, event(5)); // 4 is late
    await feed.deliver(4, event(4)); // ...and arrives after 5
    await feed.deliver(2, event(2)); // older than what the room has
    assert.deepEqual(log, ['room:ev_3', 'room:ev_4', 'room:ev_5']);
  });

  it('gives a joining socket its backlog, holds live events until then, and never repeats one', async () => {
    const cache = fakeFeedCache([1, 2, 3].map((n) => ({ seq: n, event: event(n) })));
    const { log, delivery } = recorder();
    const feed = new RoomFeed('1337', cache, delivery, fail);
    await feed.join('early', () => undefined, undefined, 10);
    feed.release('early');

    const open = cache.hold();
    const joining = feed.join('late', () => undefined, 'ev_1', 10);
    await new Promise((resolve) => setImmediate(resolve));
    cache.add(4);
    const live = feed.deliver(4, event(4));
    await new Promise((resolve) => setImmediate(resolve));
    open();
    const backlog = await joining;
    await live;
    assert.deepEqual(
      backlog?.events.map((e) => e.id),
      ['ev_2', 'ev_3'],
    );
    assert.equal(backlog?.complete, true);
    assert.deepEqual(log, ['room:ev_4 except late']);
    feed.release('late');
    assert.deepEqual(log, ['room:ev_4 except late', 'late:ev_4']);
  });

  it('returns the latest events, saying so, when `since` is unknown; null once the feed is closed', async () => {
    const cache = fakeFeedCache([1, 2, 3].map((n) => ({ seq: n, event: event(n) })));
    const feed = new RoomFeed('1337', cache, recorder().delivery, fail);
    const unknown = await feed.join('a', () => undefined, 'ev_unknown', 2);
    assert.deepEqual(
      unknown?.events.map((e) => e.id),
      ['ev_1', 'ev_2', 'ev_3'],
    );
    assert.equal(unknown?.complete, false, 'what came after an unknown event cannot be told');
    const fresh = await feed.join('b', () => undefined, undefined, 2);
    assert.deepEqual(
      fresh?.events.map((e) => e.id),
      ['ev_2', 'ev_3'],
    );
    assert.equal(fresh?.complete, true);
    feed.closed = true;
    assert.equal(await feed.join('c', () => undefined, undefined, 2), null);
  });
});

describe('RoomFeed catch-up beyond the cache', () => {
  it('says the backlog is incomplete when events after `since` were evicted from the cache', async () => {
    // Seq 1 is still indexed but its successors 2 and 3 are gone from the cache (only 4 and 5 kept).
    const entries = [4, 5].map((n) => ({ seq: n, event: event(n) }));
    const cache = fakeFeedCache(entries);
    cache.seqOf = (_b, id) => Promise.resolve(id === 'ev_1' ? 1 : null);
    const feed = new RoomFeed('1337', cache, recorder().delivery, fail);
    const behind = await feed.join('away', () => undefined, 'ev_1', 10);
    assert.deepEqual(
      behind?.events.map((e) => e.id),
      ['ev_4', 'ev_5'],
    );
    assert.equal(behind?.complete, false);
    cache.seqOf = (_b, id) => Promise.resolve(id === 'ev_4' ? 4 : null);
    const recent = await feed.join('back', () => undefined, 'ev_4', 10);
    assert.deepEqual(
      recent?.events.map((e) => e.id),
      ['ev_5'],
    );
    assert.equal(recent?.complete, true);
  });
});

describe('RoomFeed after the feed counter restarts', () => {
  it('follows the new numbering instead of dropping every new event', async () => {
    const entries = [1, 2, 3].map((n) => ({ seq: n, event: event(n) }));
    const cache = fakeFeedCache(entries);
    const { log, delivery } = recorder();
    const feed = new RoomFeed('1337', cache, delivery, () => undefined);
    await feed.join('s', () => undefined, undefined, 10);
    feed.release('s');
    await feed.deliver(2, event(2)); // a stale duplicate: the counter is still at 3
    entries.splice(0, entries.length, { seq: 1, event: event(101) });
    await feed.deliver(1, event(101)); // Redis lost the feed: numbering starts again
    entries.push({ seq: 2, event: event(102) });
    await feed.deliver(2, event(102));
    await feed.deliver(1, event(101)); // and duplicates are still dropped
    assert.deepEqual(log, ['room:ev_101', 'room:ev_102']);
  });
});

describe('RoomFeed when the cache no longer has a missing event', () => {
  it('delivers it late, once, when its own emission arrives', async () => {
    const entries = [1].map((n) => ({ seq: n, event: event(n) }));
    const cache = fakeFeedCache(entries);
    const { log, delivery } = recorder();
    const feed = new RoomFeed('1337', cache, delivery, fail);
    await feed.join('s', () => undefined, undefined, 10);
    feed.release('s');
    // 2 was evicted from the cache before this node noticed the gap.
    entries.push({ seq: 3, event: event(3) });
    await feed.deliver(3, event(3));
    await feed.deliver(2, event(2));
    await feed.deliver(2, event(2));
    assert.deepEqual(log, ['room:ev_3', 'room:ev_2']);
  });
});

describe('RoomFeed subscribing to its channel', () => {
  it('reads its position only once the subscription is confirmed: an event of that moment is backlog, not lost', async () => {
    const cache = fakeFeedCache([1, 2, 3].map((n) => ({ seq: n, event: event(n) })));
    const { delivery } = recorder();
    let confirm!: () => void;
    const subscribed = new Promise<void>((resolve) => (confirm = resolve));
    const feed = new RoomFeed('1337', cache, delivery, fail, () => subscribed);
    const joining = feed.join('a', () => undefined, 'ev_1', 10);
    await new Promise((resolve) => setImmediate(resolve));
    // Cached and published while the SUBSCRIBE was on its way: this node never hears it live.
    cache.add(4);
    confirm();
    const backlog = await joining;
    assert.deepEqual(
      backlog?.events.map((e) => e.id),
      ['ev_2', 'ev_3', 'ev_4'],
    );
  });
});
