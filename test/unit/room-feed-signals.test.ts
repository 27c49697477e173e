import assert from 'node:assert/strict';
import type { StreamEvent } from '../../src/shared/events/event.js';
import { RoomFeed, type LocalDelivery } from '../../src/realtime/room-feed.js';
import { createRoomFeeds } from '../../src/realtime/room-feeds.js';
import { event, fakeFeedCache } from '../helpers/room-feed-fixtures.js';

const wave = (count: number): StreamEvent => ({
  ...event(0),
  id: 'wave_1',
  type: 'channel.follow.wave',
  summary: `Follow wave: ${count} new followers in 3 s`,
  data: { count },
});

function recorder() {
  const log: string[] = [];
  const describe = (e: StreamEvent) => `${e.id}${e.data.count ? `@${Number(e.data.count)}` : ''}`;
  const delivery: LocalDelivery = {
    toRoom: (_room, except, e) => log.push(`event ${describe(e)}${except.length ? ' except' : ''}`),
    toSocket: (socketId, e) => log.push(`${socketId} event ${describe(e)}`),
    signalRoom: (_room, except, s) =>
      log.push(
        `${s.name} ${'replayId' in s.payload ? s.payload.event.id : describe(s.payload)}${except.length ? ' except' : ''}`,
      ),
    signalSocket: (socketId, s) =>
      log.push(
        `${socketId} ${s.name} ${'replayId' in s.payload ? s.payload.event.id : describe(s.payload)}`,
      ),
  };
  return { log, delivery };
}
const fail = (error: unknown) => assert.fail(String(error));
const replay = (n: number, replayId = `r${n}`) => ({
  replayId,
  replayedAt: '2026-01-01T00:01:00.000Z',
  event: event(n),
});

describe('RoomFeed: updates of a growing entry, and replays', () => {
  it('sends a newer state of a delivered entry as event:updated, and drops older ones', async () => {
    const cache = fakeFeedCache([{ seq: 1, event: event(1) }]);
    const { log, delivery } = recorder();
    const feed = new RoomFeed('1337', cache, delivery, fail);
    await feed.join('s1', () => undefined, undefined, 10);
    feed.release('s1');
    await feed.deliver(2, wave(1));
    await feed.update(2, wave(5));
    await feed.update(2, wave(3)); // late
    await feed.update(2, wave(5)); // twice
    await feed.update(2, wave(9));
    assert.deepEqual(log, ['event wave_1@1', 'event:updated wave_1@5', 'event:updated wave_1@9']);
  });

  it('sends an entry whose update overtook it in its newest state, as one event', async () => {
    const cache = fakeFeedCache([{ seq: 1, event: event(1) }]);
    const { log, delivery } = recorder();
    const feed = new RoomFeed('1337', cache, delivery, fail);
    await feed.join('s1', () => undefined, undefined, 10);
    feed.release('s1');
    await feed.update(2, wave(4)); // emitters in parallel: the update first
    await feed.deliver(2, wave(1));
    await feed.update(2, wave(4));
    assert.deepEqual(log, ['event wave_1@4']);
  });

  it('updates an entry a joining socket got in its backlog, after the backlog', async () => {
    const cache = fakeFeedCache([
      { seq: 1, event: event(1) },
      { seq: 2, event: wave(2) },
    ]);
    const { log, delivery } = recorder();
    const feed = new RoomFeed('1337', cache, delivery, fail);
    await feed.join('s1', () => undefined, undefined, 10);
    feed.release('s1');
    const open = cache.hold();
    const joining = feed.join('s2', () => undefined, undefined, 10);
    await new Promise((resolve) => setImmediate(resolve));
    await feed.update(2, wave(6));
    open();
    const backlog = await joining;
    assert.deepEqual(
      backlog!.events.map((e) => e.id),
      ['ev_1', 'wave_1'],
    );
    feed.release('s2');
    assert.deepEqual(log, ['event:updated wave_1@6 except', 's2 event:updated wave_1@6']);
  });

  it('plays a replay to every watcher once, and never as an event', async () => {
    const cache = fakeFeedCache([{ seq: 1, event: event(1) }]);
    const { log, delivery } = recorder();
    const feed = new RoomFeed('1337', cache, delivery, fail);
    // Not watched yet on this node: nothing to play it to.
    await feed.replay(replay(1, 'r0'));
    await feed.join('s1', () => undefined, undefined, 10);
    feed.release('s1');
    await feed.replay(replay(1));
    await feed.replay(replay(1)); // delivered twice
    await feed.replay(replay(1, 'r2')); // replayed again later
    await feed.deliver(2, event(2));
    assert.deepEqual(log, ['event:replayed ev_1', 'event:replayed ev_1', 'event ev_2']);
  });

  it('routes each kind of notification of a watched streamer to its feed', async () => {
    const cache = fakeFeedCache([{ seq: 1, event: event(1) }]);
    const { log, delivery } = recorder();
    const feeds = createRoomFeeds(cache, delivery, fail);
    const feed = feeds.get('1337');
    await feed.join('s1', () => undefined, undefined, 10);
    feed.release('s1');
    feeds.onNotification({ broadcasterId: '1337', seq: 2, event: wave(1) });
    feeds.onNotification({ broadcasterId: '1337', seq: 2, updated: wave(2) });
    feeds.onNotification({
      broadcasterId: '1337',
      replayed: event(1),
      replayId: 'r',
      replayedAt: 'x',
    });
    feeds.onNotification({ broadcasterId: '9999', seq: 1, updated: wave(3) }); // not watched here
    await feed.replay(replay(1, 'r')); // a repeat: only waits for the steps queued before it
    assert.deepEqual(log, ['event wave_1@1', 'event:updated wave_1@2', 'event:replayed ev_1']);
  });
});
