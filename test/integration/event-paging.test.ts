import assert from 'node:assert/strict';
import type { StreamEvent } from '../../src/shared/events/event.js';
import { feedKeys } from '../../src/shared/feed/feed-keys.js';
import { EVENTSUB_SECRET, startStack, type Stack } from '../helpers/stack.js';
import { waitUntil } from '../helpers/simulator.js';
import { deliver, followPayload, notificationBody } from '../helpers/twitch.js';

const STREAMER = '9100';
const MINUTE = 60_000;

describe('paging GET /api/streamers/:id/events?before= in arrival order', function () {
  this.timeout(120_000);
  let stack: Stack;

  before(async () => {
    stack = await startStack({ without: ['realtime', 'emitter'] });
  });
  after(async () => {
    await stack?.stop();
  });

  const stored = async () =>
    Number(
      (
        await stack
          .knex('events')
          .where({ broadcaster_id: STREAMER })
          .count<{ count: string }[]>('* as count')
      )[0]!.count,
    );
  const follow = async (user: number, followedAt: Date, retry = 0) => {
    const result = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
      body: notificationBody(followPayload(STREAMER, String(user), followedAt)),
      subscriptionType: 'channel.follow',
      subscriptionVersion: '2',
      retry,
    });
    assert.equal(result.status, 202, result.body);
  };
  const page = async (query: string) => {
    const response = await fetch(`${stack.webUrl}/api/streamers/${STREAMER}/events?${query}`);
    assert.equal(response.status, 200);
    return ((await response.json()) as { events: StreamEvent[] }).events.map((e) => e.id);
  };
  /** Every page from the newest, each `before` the last id of the one before, to the empty one. */
  const pageThrough = async (limit: number) => {
    const seen: string[] = [];
    for (let pages = 0; pages < 30; pages++) {
      const ids = await page(
        seen.length === 0 ? `limit=${limit}` : `limit=${limit}&before=${seen.at(-1)}`,
      );
      if (ids.length === 0) return seen;
      assert.ok(ids.length <= limit);
      seen.push(...ids);
    }
    assert.fail(`paging by ${limit} never reached an empty page (${seen.length} seen)`);
  };

  it('visits every event once, cache and PostgreSQL alike, though times disagree with arrival', async () => {
    const now = Date.now();
    // Stored before feed positions existed: after every positioned event, last stored first.
    for (const n of [1, 2, 3]) {
      await stack.knex('events').insert({
        id: `ev_legacy_${n}`,
        type: 'channel.follow',
        broadcaster_id: STREAMER,
        broadcaster_login: `streamer_${STREAMER}`,
        broadcaster_name: `Streamer_${STREAMER}`,
        occurred_at: new Date(now + n * MINUTE).toISOString(),
        summary: `legacy ${n}`,
        data: '{}',
      });
    }
    // The newest time, the earliest arrival.
    await follow(1, new Date(now + 10 * MINUTE));
    await waitUntil(async () => (await stored()) === 4, 10_000, 'the first follow stored');
    for (let user = 2; user <= 55; user++) await follow(user, new Date(now + user));
    await waitUntil(async () => (await stored()) === 58, 20_000, '55 follows stored');
    // A retried follow, 15 minutes old: the latest arrival.
    await follow(56, new Date(now - 15 * MINUTE), 1);
    await waitUntil(async () => (await stored()) === 59, 10_000, 'the retried follow stored');

    const positioned = await stack
      .knex('events')
      .where({ broadcaster_id: STREAMER })
      .whereNotNull('seq')
      .orderBy('seq', 'desc')
      .pluck<string[]>('id');
    const arrival = [...positioned, 'ev_legacy_3', 'ev_legacy_2', 'ev_legacy_1'];
    assert.equal(new Set(arrival).size, 59);
    const userOf = async (id: string) =>
      (await stack.knex('events').first<{ actor: { id: string } }>('actor').where({ id })).actor.id;
    assert.equal(await userOf(positioned[0]!), '56', 'the retried follow came last');
    assert.equal(await userOf(positioned.at(-1)!), '1', 'the newest time came first');

    assert.deepEqual(await page('limit=100'), arrival, 'one page of all, newest arrival first');
    for (const limit of [10, 7, 50]) {
      assert.deepEqual(await pageThrough(limit), arrival, `paging by ${limit}, cache warm`);
    }
    // With the feed cache lost, PostgreSQL answers every page, in the same order.
    await stack.redis.del(...Object.values(feedKeys(stack.prefix, STREAMER)));
    assert.deepEqual(await page('limit=100'), arrival);
    assert.deepEqual(await pageThrough(10), arrival, 'paging by 10, cache cold');
  });

  it('lists an event once when the cache has its position and its row has none', async () => {
    const result = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
      body: notificationBody(followPayload('9101', '1')),
      subscriptionType: 'channel.follow',
      subscriptionVersion: '2',
    });
    assert.equal(result.status, 202);
    const row = () => stack.knex('events').where({ broadcaster_id: '9101' });
    await waitUntil(async () => (await row()).length === 1, 10_000, 'stored');
    // As an older processor stored it: without its feed position.
    await row().update({ seq: null });
    const response = await fetch(`${stack.webUrl}/api/streamers/9101/events?limit=100`);
    const { events } = (await response.json()) as { events: StreamEvent[] };
    assert.equal(events.length, 1);
  });
});
