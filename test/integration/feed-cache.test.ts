import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { StreamEvent } from '../../src/shared/events/event.js';
import { createFeedCache } from '../../src/shared/feed/feed-cache.js';
import { CACHED_EVENTS, feedKeys } from '../../src/shared/feed/feed-keys.js';
import {
  createEventIdentity,
  hasOccurrenceIdentity,
} from '../../src/shared/events/event-identity.js';
import { deleteKeys, TEST_REDIS_URL } from '../helpers/redis.js';

const event = (id: string, broadcasterId = '1337'): StreamEvent => ({
  id,
  type: 'channel.follow',
  broadcasterId,
  broadcasterLogin: 'cool_user',
  broadcasterName: 'Cool_User',
  occurredAt: '2026-01-01T00:00:00.000Z',
  actor: { id: '1', login: 'fan', name: 'Fän 🎉' },
  summary: 'Fän 🎉 followed',
  data: { nested: { list: [1, 2] } },
});

describe('feed cache and event identity (real Redis)', () => {
  let redis: Redis;
  let prefix: string;

  beforeEach(async () => {
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    await redis.ping().catch((error: Error) => {
      throw new Error(`Redis at ${TEST_REDIS_URL} does not answer: ${error.message}`);
    });
    prefix = `t${randomBytes(5).toString('hex')}`;
  });
  afterEach(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('assigns one sequence number per event, however often it is appended', async () => {
    const cache = createFeedCache(redis, prefix);
    const first = await cache.append(event('a'), 'msg-1');
    const again = await cache.append(event('a'), 'msg-2');
    const second = await cache.append(event('b'), 'msg-3');
    assert.deepEqual([first.created, first.seq], [true, 1]);
    assert.deepEqual([again.created, again.seq, again.messageId], [false, 1, 'msg-1']);
    assert.deepEqual([second.created, second.seq], [true, 2]);
    assert.deepEqual(again.event, event('a'));
    assert.equal(await cache.currentSeq('1337'), 2);
    assert.equal(await cache.currentSeq('other'), 0);
  });

  it('appends concurrently without losing or doubling an event', async () => {
    const cache = createFeedCache(redis, prefix);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => cache.append(event(`e${i % 100}`), `m${i}`)),
    );
    assert.equal(results.filter((r) => r.created).length, 100);
    assert.deepEqual(new Set(results.map((r) => r.seq)).size, 100);
    assert.equal(await cache.currentSeq('1337'), 100);
  });

  it('keeps the latest 50 events, newest first, and reads ranges oldest first', async () => {
    const cache = createFeedCache(redis, prefix);
    for (let i = 1; i <= 60; i++) await cache.append(event(`e${i}`), `m${i}`);
    const latest = await cache.latest('1337', 100);
    assert.equal(latest.length, CACHED_EVENTS);
    assert.equal(latest[0]!.event.id, 'e60');
    assert.equal(latest.at(-1)!.event.id, 'e11');
    assert.equal(await redis.hlen(feedKeys(prefix, '1337').events), CACHED_EVENTS);
    assert.deepEqual(
      (await cache.range('1337', 55, 58)).map((e) => e.event.id),
      ['e56', 'e57', 'e58'],
    );
    // Evicted events are still known to the dedupe index, so they are not appended twice.
    assert.equal(await cache.seqOf('1337', 'e1'), 1);
    const evicted = await cache.append(event('e1'), 'm1');
    assert.deepEqual([evicted.created, evicted.seq], [false, 1]);
    // ...and a retry of the message that created it is still recognised as that message.
    assert.equal(evicted.messageId, 'm1');
    assert.deepEqual(evicted.event, event('e1'));
  });

  it('gives a re-sent event with a new message id the first delivery its id', async () => {
    const identify = createEventIdentity(redis, prefix, 60);
    const offline = {
      broadcaster_user_id: '1337',
      broadcaster_user_login: 'cool_user',
      broadcaster_user_name: 'Cool_User',
    };
    assert.equal(hasOccurrenceIdentity(offline), false);
    const first = await identify({
      broadcasterId: '1337',
      type: 'stream.offline',
      event: offline,
      messageId: 'm1',
    });
    const retry = await identify({
      broadcasterId: '1337',
      type: 'stream.offline',
      event: offline,
      messageId: 'm1',
    });
    const resend = await identify({
      broadcasterId: '1337',
      type: 'stream.offline',
      event: { ...offline },
      messageId: 'm2',
    });
    assert.deepEqual(retry, { id: first.id, duplicateContent: false });
    assert.deepEqual(resend, { id: first.id, duplicateContent: true });
  });

  it('derives the id from content when the event names its own occurrence', async () => {
    const identify = createEventIdentity(redis, prefix, 60);
    const follow = {
      user_id: '1',
      broadcaster_user_id: '1337',
      followed_at: '2026-01-01T00:00:00Z',
    };
    const a = await identify({
      broadcasterId: '1337',
      type: 'channel.follow',
      event: follow,
      messageId: 'm1',
    });
    const b = await identify({
      broadcasterId: '1337',
      type: 'channel.follow',
      event: { followed_at: follow.followed_at, broadcaster_user_id: '1337', user_id: '1' },
      messageId: 'm2',
    });
    const c = await identify({
      broadcasterId: '1337',
      type: 'channel.follow',
      event: { ...follow, user_id: '2' },
      messageId: 'm3',
    });
    const d = await identify({
      broadcasterId: '42',
      type: 'channel.follow',
      event: follow,
      messageId: 'm1',
    });
    assert.equal(a.id, b.id);
    assert.notEqual(a.id, c.id);
    assert.notEqual(a.id, d.id);
  });
});
