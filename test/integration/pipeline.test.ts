import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { StreamEvent } from '../../src/shared/events/event.js';
import { io as connectSocket } from 'socket.io-client';
import { normalizeEvent } from '../../src/shared/events/normalize.js';
import { createRealtimeTokens } from '../../src/shared/realtime-token.js';
import { feedKeys } from '../../src/shared/feed/feed-keys.js';
import { eventSubHeaders, twitchTimestamp } from '../../src/shared/twitch/eventsub-delivery.js';
import {
  EVENTSUB_SECRET,
  SESSION_SECRET,
  QUEUES,
  countJobs,
  startStack,
  type Stack,
  type Watcher,
} from '../helpers/stack.js';
import { deliver, followPayload, loadPayloads, notificationBody } from '../helpers/twitch.js';
import { waitUntil } from '../helpers/simulator.js';

const NOT_EVENTS = new Set(['webhook_callback_verification', 'revocation']);
const settle = (ms = 800) => new Promise((resolve) => setTimeout(resolve, ms));
const withoutId = ({ id: _id, ...rest }: StreamEvent) => rest;

/** Jobs ever added to a queue that are still on record (completed ones are kept 10 minutes). */
async function jobsOnRecord(
  stack: Stack,
  name: (typeof QUEUES)[keyof typeof QUEUES],
): Promise<number> {
  const counts = await countJobs(stack.queue(name));
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

const follow = (broadcasterId: string, userId: string) => followPayload(broadcasterId, userId);

describe('event pipeline through the real processes', function () {
  this.timeout(120_000);
  let stack: Stack;
  let watchers: Watcher[];
  const payloads = loadPayloads();

  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  async function watchOnBothNodes(...broadcasterIds: string[]): Promise<Watcher[]> {
    const pair = [await stack.watcher(0), await stack.watcher(1)];
    for (const watcher of pair) {
      for (const id of broadcasterIds) assert.deepEqual((await watcher.watch(id)).ok, true);
    }
    return pair;
  }

  it('delivers every Twitch example payload, normalised, exactly once to watchers on both nodes', async () => {
    const examples = [...payloads].filter(([name]) => !NOT_EVENTS.has(name));
    const timestamp = twitchTimestamp();
    const expected = examples.map(([, p]) => normalizeEvent(p.subscription, p.event!, timestamp));
    watchers = await watchOnBothNodes(...new Set(expected.map((e) => e.broadcasterId)));

    for (const [name, payload] of examples) {
      const result = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
        body: JSON.stringify(payload),
        subscriptionType: payload.subscription.type,
        subscriptionVersion: payload.subscription.version,
        timestamp,
      });
      assert.equal(result.status, 202, `${name}: ${result.body}`);
    }
    for (const watcher of watchers) {
      await watcher.waitFor(examples.length);
      await settle();
      assert.equal(watcher.received.length, examples.length, 'no event arrives twice');
      const byType = new Map(watcher.received.map((e) => [e.type, e]));
      for (const want of expected) {
        assert.deepEqual(withoutId(byType.get(want.type)!), want, want.type);
      }
      assert.equal(new Set(watcher.received.map((e) => e.id)).size, examples.length);
    }
    // Order is per streamer (each has its own sequence); across streamers it is not defined.
    const perStreamer = (events: StreamEvent[]) =>
      [...new Set(events.map((e) => e.broadcasterId))]
        .sort()
        .map((id) => events.filter((e) => e.broadcasterId === id).map((e) => e.id));
    assert.deepEqual(
      perStreamer(watchers[0]!.received),
      perStreamer(watchers[1]!.received),
      'both nodes deliver each streamer’s events in the same order',
    );
  });

  it('stores every delivered event once in PostgreSQL and serves it from the API', async () => {
    const ids = watchers[0]!.received.map((e) => e.id);
    for (let i = 0; i < 100; i++) {
      const [row] = await stack
        .knex('events')
        .whereIn('id', ids)
        .count<{ count: string }[]>('* as count');
      if (Number(row?.count) === ids.length) break;
      await settle(100);
    }
    const rows = await stack.knex('events').whereIn('id', ids).select('id');
    assert.equal(rows.length, ids.length);

    const follows = watchers[0]!.received.filter((e) => e.broadcasterId === '1337');
    const response = await fetch(`${stack.webUrl}/api/streamers/1337/events?limit=3`);
    assert.equal(response.status, 200);
    const { events } = (await response.json()) as { events: StreamEvent[] };
    assert.equal(events.length, 3);
    assert.deepEqual(
      events.map((e) => e.id),
      follows
        .slice(-3)
        .reverse()
        .map((e) => e.id),
    );
    const bad = await fetch(`${stack.webUrl}/api/streamers/1337/events?limit=500`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'bad_request');
  });

  it('serves older pages and a lost cache from PostgreSQL', async () => {
    const all = watchers[0]!.received.filter((e) => e.broadcasterId === '1337').reverse();
    const page = async (query: string) => {
      const response = await fetch(`${stack.webUrl}/api/streamers/1337/events?${query}`);
      assert.equal(response.status, 200);
      return ((await response.json()) as { events: StreamEvent[] }).events;
    };
    const newestFirst = await page('limit=100');
    assert.deepEqual(new Set(newestFirst.map((e) => e.id)), new Set(all.map((e) => e.id)));
    await stack.redis.del(...Object.values(feedKeys(stack.prefix, '1337')));
    const fromDatabase = await page('limit=100');
    assert.deepEqual(new Set(fromDatabase.map((e) => e.id)), new Set(all.map((e) => e.id)));
    // Arrival order, newest first, as the watchers got them (the examples' times disagree).
    assert.deepEqual(
      fromDatabase.map((e) => e.id),
      all.map((e) => e.id),
      'newest arrival first',
    );
    const second = await page(`limit=5&before=${fromDatabase[4]!.id}`);
    assert.deepEqual(second, fromDatabase.slice(5, 10));
    assert.deepEqual(await page('limit=5&before=no-such-event'), []);
  });

  it('serves what came after an event, in the order it came, from the cache and PostgreSQL', async () => {
    const send = (n: number) =>
      deliver(stack.webhookUrl, EVENTSUB_SECRET, {
        body: notificationBody(follow('5006', String(n))),
        subscriptionType: 'channel.follow',
        subscriptionVersion: '2',
      });
    const watcher = await stack.watcher(0);
    assert.equal((await watcher.watch('5006')).ok, true);
    for (let n = 1; n <= 8; n++) assert.equal((await send(n)).status, 202);
    const arrived = (await watcher.waitFor(8)).map((e) => e.id);
    await waitUntil(
      async () => (await stack.knex('events').where({ broadcaster_id: '5006' })).length === 8,
      10_000,
      'all eight stored',
    );
    const after = async (query: string) => {
      const response = await fetch(`${stack.webUrl}/api/streamers/5006/events?${query}`);
      return {
        status: response.status,
        body: (await response.json()) as { events: StreamEvent[]; more: boolean },
      };
    };
    const fromCache = await after(`after=${arrived[1]}&limit=4`);
    assert.deepEqual(
      fromCache.body.events.map((e) => e.id),
      arrived.slice(2, 6),
    );
    assert.equal(fromCache.body.more, true);
    // With the cache gone, PostgreSQL answers by the stored feed positions.
    await stack.redis.del(...Object.values(feedKeys(stack.prefix, '5006')));
    const stored = await after(`after=${arrived[1]}&limit=10`);
    assert.deepEqual(
      stored.body.events.map((e) => e.id),
      arrived.slice(2),
    );
    assert.equal(stored.body.more, false);
    assert.equal((await after('after=no-such-event')).status, 404);
    assert.equal((await after(`after=${arrived[0]}&before=${arrived[1]}`)).status, 400);
  });

  it('delivers a duplicate delivery and a re-send with a new message id once', async () => {
    const [a, b] = await watchOnBothNodes('5001');
    const followPayload = follow('5001', '77');
    const body = notificationBody(followPayload);
    const delivery = {
      body,
      subscriptionType: 'channel.follow',
      subscriptionVersion: '2',
      messageId: randomUUID(),
    };
    const first = await deliver(stack.webhookUrl, EVENTSUB_SECRET, delivery);
    const again = await Promise.all(
      [1, 2].map((retry) => deliver(stack.webhookUrl, EVENTSUB_SECRET, { ...delivery, retry })),
    );
    const resent = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
      ...delivery,
      messageId: randomUUID(),
    });
    const offline = JSON.stringify({
      subscription: {
        ...payloads.get('stream.offline')!.subscription,
        condition: { broadcaster_user_id: '5001' },
      },
      event: {
        broadcaster_user_id: '5001',
        broadcaster_user_login: 'streamer_5001',
        broadcaster_user_name: 'Streamer_5001',
      },
    });
    const offlines = [];
    for (let i = 0; i < 2; i++) {
      offlines.push(
        await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
          body: offline,
          subscriptionType: 'stream.offline',
          subscriptionVersion: '1',
        }),
      );
    }
    for (const r of [first, ...again, resent, ...offlines]) {
      assert.ok(r.status >= 200 && r.status < 300, String(r.status));
    }

    for (const watcher of [a!, b!]) {
      await watcher.waitFor(2);
      await settle(1500);
      assert.deepEqual(
        watcher.received.map((e) => e.type),
        ['channel.follow', 'stream.offline'],
      );
    }
    const rows = await stack.knex('events').where({ broadcaster_id: '5001' }).select('id');
    assert.ok(rows.length <= 2);
  });

  it('refuses bad, missing and stale signatures with 403 and queues nothing', async () => {
    const before = await jobsOnRecord(stack, QUEUES.callbacks);
    const body = notificationBody(follow('5002', '1'));
    const base = { body, subscriptionType: 'channel.follow', subscriptionVersion: '2' };
    const cases: Array<
      [string, Parameters<typeof deliver>[3], Partial<typeof base> & { timestamp?: string }]
    > = [
      [
        'bad signature',
        (h) => {
          h['twitch-eventsub-message-signature'] = `sha256=${'0'.repeat(64)}`;
        },
        {},
      ],
      [
        'short signature',
        (h) => {
          h['twitch-eventsub-message-signature'] = 'sha256=abc';
        },
        {},
      ],
      [
        'missing signature',
        (h) => {
          delete h['twitch-eventsub-message-signature'];
        },
        {},
      ],
      [
        'missing timestamp',
        (h) => {
          delete h['twitch-eventsub-message-timestamp'];
        },
        {},
      ],
      [
        'missing message id',
        (h) => {
          delete h['twitch-eventsub-message-id'];
        },
        {},
      ],
      ['wrong secret', undefined, {}],
      [
        'stale timestamp',
        undefined,
        { timestamp: twitchTimestamp(new Date(Date.now() - 11 * 60_000)) },
      ],
      [
        'future timestamp',
        undefined,
        { timestamp: twitchTimestamp(new Date(Date.now() + 11 * 60_000)) },
      ],
    ];
    for (const [name, tamper, overrides] of cases) {
      const secret = name === 'wrong secret' ? 'another-secret-entirely' : EVENTSUB_SECRET;
      const result = await deliver(stack.webhookUrl, secret, { ...base, ...overrides }, tamper);
      assert.equal(result.status, 403, name);
      assert.match(
        (JSON.parse(result.body) as { error: { code: string } }).error.code,
        /signature|timestamp/,
        name,
      );
    }
    // A body changed after signing is the classic forgery; a request with no headers the plainest.
    const headers = eventSubHeaders(EVENTSUB_SECRET, { ...base, messageType: 'notification' });
    const forged = await fetch(stack.webhookUrl, {
      method: 'POST',
      headers,
      body: body.replace('fan_1', 'fan_2'),
    });
    assert.equal(forged.status, 403);
    const bare = await fetch(stack.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(bare.status, 403);
    assert.equal(await jobsOnRecord(stack, QUEUES.callbacks), before);
  });

  it('answers a verification challenge with exactly the challenge as text/plain', async () => {
    const payload = payloads.get('webhook_callback_verification')!;
    const result = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
      body: JSON.stringify(payload),
      messageType: 'webhook_callback_verification',
      subscriptionType: payload.subscription.type,
      subscriptionVersion: payload.subscription.version,
    });
    assert.equal(result.status, 200);
    assert.equal(result.body, payload.challenge);
    assert.match(result.contentType ?? '', /^text\/plain/);
  });

  it('queues a revocation and records the reason on the subscription', async () => {
    const payload = payloads.get('revocation')!;
    const sub = payload.subscription;
    const broadcasterId = String(sub.condition.broadcaster_user_id);
    await stack
      .knex('streamers')
      .insert({ id: broadcasterId, login: 'cool_user', display_name: 'Cool_User' })
      .onConflict('id')
      .ignore();
    await stack.knex('eventsub_subscriptions').insert({
      twitch_id: sub.id,
      broadcaster_id: broadcasterId,
      type: sub.type,
      version: sub.version,
      condition: sub.condition,
      status: 'enabled',
    });
    const result = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
      body: JSON.stringify(payload),
      messageType: 'revocation',
      subscriptionType: sub.type,
      subscriptionVersion: sub.version,
    });
    assert.equal(result.status, 202);
    let status = '';
    for (let i = 0; i < 100 && status !== sub.status; i++) {
      await settle(100);
      const row = await stack
        .knex('eventsub_subscriptions')
        .where({ twitch_id: sub.id })
        .first<{ status: string } | undefined>('status');
      status = row?.status ?? '';
    }
    assert.equal(status, sub.status);
  });

  it('verifies the signature over raw bytes with \\u0026-style escapes', async () => {
    const [watcher] = await watchOnBothNodes('5003');
    const cheer = structuredClone(payloads.get('channel.cheer')!);
    cheer.subscription.condition = { broadcaster_user_id: '5003' };
    Object.assign(cheer.event!, { broadcaster_user_id: '5003', message: 'rock & roll <3 > all' });
    const raw = JSON.stringify(cheer)
      .replace(/&/g, '\\u0026')
      .replace(/</g, '\\u003c')
      .replace(/>/g, '\\u003e');
    assert.notEqual(raw, JSON.stringify(JSON.parse(raw)));
    const result = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
      body: raw,
      subscriptionType: 'channel.cheer',
      subscriptionVersion: '1',
    });
    assert.equal(result.status, 202);
    const [event] = await watcher!.waitFor(1);
    assert.equal(event!.data.message, 'rock & roll <3 > all');
  });

  it('answers 2xx to an unknown message type without queuing, and 413 to an oversized body', async () => {
    const before = await jobsOnRecord(stack, QUEUES.callbacks);
    const unknown = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
      body: notificationBody(follow('5004', '1')),
      messageType: 'something_new' as 'notification',
      subscriptionType: 'channel.follow',
      subscriptionVersion: '2',
    });
    assert.equal(unknown.status, 204);
    const huge = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
      body: notificationBody(follow('5004', '1'), (e) => {
        e.padding = 'x'.repeat(2 * 1024 * 1024);
      }),
      subscriptionType: 'channel.follow',
      subscriptionVersion: '2',
    });
    assert.equal(huge.status, 413);
    assert.equal(await jobsOnRecord(stack, QUEUES.callbacks), before);
  });

  it('keeps an unusable notification as a failed job with its cause, without retrying it', async () => {
    const result = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
      body: '{"subscription":{"id":"x","type":"channel.follow","version":"2","condition":{}},"event":{"user_id":"1"}}',
      subscriptionType: 'channel.follow',
      subscriptionVersion: '2',
    });
    assert.equal(result.status, 202);
    const queue = stack.queue(QUEUES.callbacks);
    let failed = await queue.getFailed();
    for (let i = 0; i < 50 && failed.length === 0; i++) {
      await settle(100);
      failed = await queue.getFailed();
    }
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.attemptsMade, 1, 'a payload error is not retried');
    assert.match(failed[0]!.failedReason, /broadcaster/i);
  });

  it('refuses a socket with a missing, forged or expired token, saying why', async () => {
    const forged = await createRealtimeTokens('another-secret-of-sufficient-length-000').issue(
      'viewer-1',
    );
    const expired = await createRealtimeTokens(SESSION_SECRET).issue('viewer-1', -10);
    for (const [auth, reason] of [
      [{}, 'missing token'],
      [{ token: forged }, 'invalid token'],
      [{ token: expired }, 'token expired'],
      [{ token: 'garbage' }, 'invalid token'],
    ] as const) {
      const socket = connectSocket(stack.realtimeUrls[0], {
        auth,
        transports: ['websocket'],
        reconnection: false,
      });
      const message = await new Promise<string>((resolve, reject) => {
        socket.once('connect_error', (error) => resolve(error.message));
        socket.once('connect', () => reject(new Error(`connected with ${JSON.stringify(auth)}`)));
      });
      socket.disconnect();
      assert.equal(message, `unauthorized: ${reason}`);
    }
  });

  it('answers malformed watch requests with an error instead of failing', async () => {
    const watcher = await stack.watcher(0);
    for (const request of [
      null,
      42,
      {},
      { broadcasterId: '' },
      { broadcasterId: 'x'.repeat(65) },
      { broadcasterId: '1', since: 7 },
    ]) {
      const ack = (await watcher.socket.timeout(5000).emitWithAck('watch', request)) as {
        ok: boolean;
        error?: string;
      };
      assert.equal(ack.ok, false, JSON.stringify(request));
      assert.equal(typeof ack.error, 'string');
    }
    assert.equal(
      (
        (await watcher.socket.timeout(5000).emitWithAck('unwatch', { broadcasterId: '1337' })) as {
          ok: boolean;
        }
      ).ok,
      true,
    );
  });

  it('catches a reconnecting watcher up from `since` with nothing missed or repeated', async () => {
    const first = await stack.watcher(0);
    assert.equal((await first.watch('5005')).ok, true);
    const send = (n: number) =>
      deliver(stack.webhookUrl, EVENTSUB_SECRET, {
        body: notificationBody(follow('5005', String(n))),
        subscriptionType: 'channel.follow',
        subscriptionVersion: '2',
      });
    for (let n = 1; n <= 3; n++) assert.equal((await send(n)).status, 202);
    const seen = await first.waitFor(3);
    first.socket.disconnect();
    for (let n = 4; n <= 6; n++) assert.equal((await send(n)).status, 202);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const second = await stack.watcher(1);
    const ack = await second.watch('5005', seen.at(-1)!.id);
    assert.ok(ack.ok);
    assert.equal(ack.complete, true, 'all three missed events were still cached');
    const sending = [7, 8].map(send);
    await Promise.all(sending);
    await second.waitFor(2);
    await settle();
    const logins = [...ack.backlog, ...second.received].map((e) => e.actor?.login);
    // Events sent back to back may be processed in either order; the set is what must match.
    assert.deepEqual(logins.slice(0, 3).sort(), ['fan_4', 'fan_5', 'fan_6']);
    assert.deepEqual(logins.slice(3).sort(), ['fan_7', 'fan_8']);
  });

  it('reports readiness and health', async () => {
    assert.equal((await fetch(`${stack.webUrl}/healthz`)).status, 200);
    const ready = await fetch(`${stack.webUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(((await ready.json()) as { checks: object }).checks, {
      redis: 'ok',
      postgres: 'ok',
    });
  });
});
