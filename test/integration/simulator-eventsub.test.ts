import assert from 'node:assert/strict';
import { verifyEventSubSignature } from '../../src/shared/twitch/signature.js';
import {
  healthyReceiver,
  SIM_CLIENT,
  startCallback,
  startSimulator,
  waitUntil,
  type RunningSimulator,
} from '../helpers/simulator.js';

const SECRET = 'simulator-test-secret';
type Sub = {
  id: string;
  status: string;
  cost: number;
  type: string;
  condition: Record<string, string>;
};

describe('simulator: EventSub subscriptions and webhook delivery', function () {
  this.timeout(30_000);
  let sim: RunningSimulator;
  let streamer: { id: string };
  const closers: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    sim = await startSimulator();
    streamer = sim.state.addUser('sim_streamer');
  });
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
    await sim.close();
  });

  async function create(callback: string, body: Record<string, unknown> = {}) {
    const response = await sim.helix('/eventsub/subscriptions', {
      method: 'POST',
      body: JSON.stringify({
        type: 'stream.online',
        version: '1',
        condition: { broadcaster_user_id: streamer.id },
        transport: { method: 'webhook', callback, secret: SECRET },
        ...body,
      }),
    });
    return {
      status: response.status,
      body: (await response.json()) as {
        data: Sub[];
        total: number;
        total_cost: number;
        max_total_cost: number;
        message?: string;
      },
    };
  }
  async function receiver(answer: Parameters<typeof startCallback>[0]) {
    const cb = await startCallback(answer);
    closers.push(() => cb.close());
    return cb;
  }
  const statusOf = (id: string) => sim.state.subscriptions.get(id)?.status;

  it('sends a signed challenge right away and enables the subscription on exactly the right answer', async () => {
    const cb = await receiver(healthyReceiver);
    const created = await create(cb.url);
    assert.equal(created.status, 202);
    const sub = created.body.data[0]!;
    assert.equal(sub.status, 'webhook_callback_verification_pending');
    assert.equal(created.body.max_total_cost, 10_000);
    assert.equal('secret' in (sub as Record<string, unknown>), false);
    await waitUntil(() => statusOf(sub.id) === 'enabled', 5000, 'enabled');
    const challenge = cb.requests[0]!;
    assert.equal(
      challenge.headers['twitch-eventsub-message-type'],
      'webhook_callback_verification',
    );
    const h = challenge.headers as Record<string, string>;
    assert.ok(
      verifyEventSubSignature(
        SECRET,
        h['twitch-eventsub-message-id']!,
        h['twitch-eventsub-message-timestamp']!,
        Buffer.from(challenge.body),
        h['twitch-eventsub-message-signature']!,
      ),
    );
    assert.match(
      h['twitch-eventsub-message-timestamp']!,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/,
    );
  });

  for (const [name, answer] of [
    ['a JSON-encoded challenge', (c: string) => ({ status: 200, body: JSON.stringify(c) })],
    [
      'the challenge as application/json',
      (c: string) => ({ status: 200, body: c, type: 'application/json' }),
    ],
    ['a 204', () => ({ status: 204 })],
    ['a wrong challenge', () => ({ status: 200, body: 'nope' })],
  ] as const) {
    it(`leaves the subscription failed on ${name}`, async () => {
      const cb = await receiver((req) =>
        answer((JSON.parse(req.body) as { challenge: string }).challenge),
      );
      const sub = (await create(cb.url)).body.data[0]!;
      await waitUntil(
        () => statusOf(sub.id) !== 'webhook_callback_verification_pending',
        5000,
        'verification',
      );
      assert.equal(statusOf(sub.id), 'webhook_callback_verification_failed');
    });
  }

  it('retries a notification after two 500s with the same message id, delivering it once', async () => {
    let notifications = 0;
    const cb = await receiver((req) => {
      if (req.headers['twitch-eventsub-message-type'] !== 'notification') {
        return healthyReceiver(req);
      }
      notifications++;
      return { status: notifications <= 2 ? 500 : 204 };
    });
    const sub = (await create(cb.url)).body.data[0]!;
    await waitUntil(() => statusOf(sub.id) === 'enabled');
    const result = await fetch(`${sim.url}/sim/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'stream.online', broadcasterId: streamer.id }),
    });
    const { deliveries } = (await result.json()) as {
      deliveries: Array<{ delivered: boolean; attempts: number; messageId: string }>;
    };
    assert.deepEqual(
      deliveries.map((d) => [d.delivered, d.attempts]),
      [[true, 3]],
    );
    const sent = cb.requests.filter(
      (r) => r.headers['twitch-eventsub-message-type'] === 'notification',
    );
    assert.equal(sent.length, 3);
    assert.deepEqual(
      new Set(sent.map((r) => r.headers['twitch-eventsub-message-id'])),
      new Set([deliveries[0]!.messageId]),
    );
    assert.deepEqual(
      sent.map((r) => r.headers['twitch-eventsub-message-retry']),
      ['0', '1', '2'],
    );
    assert.equal(new Set(sent.map((r) => r.body)).size, 1, 'the body is the same on every attempt');
    assert.equal(statusOf(sub.id), 'enabled');
  });

  it('revokes a subscription whose callback keeps failing, with notification_failures_exceeded', async () => {
    const cb = await receiver((req) =>
      req.headers['twitch-eventsub-message-type'] === 'notification'
        ? { status: 503 }
        : healthyReceiver(req),
    );
    const sub = (await create(cb.url)).body.data[0]!;
    await waitUntil(() => statusOf(sub.id) === 'enabled');
    await fetch(`${sim.url}/sim/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'stream.online', broadcasterId: streamer.id }),
    });
    assert.equal(statusOf(sub.id), 'notification_failures_exceeded');
    const revocation = cb.requests.find(
      (r) => r.headers['twitch-eventsub-message-type'] === 'revocation',
    );
    assert.ok(revocation, 'a revocation was sent');
    const body = JSON.parse(revocation.body) as { subscription: Sub; event?: unknown };
    assert.equal(body.subscription.status, 'notification_failures_exceeded');
    assert.equal(body.event, undefined);
  });

  it('answers 409 for a duplicate type and condition, and counts cost against the maximum', async () => {
    const cb = await receiver(healthyReceiver);
    const first = await create(cb.url);
    assert.equal(first.body.data[0]!.cost, 1, 'the broadcaster never authorized this client');
    assert.equal(first.body.total_cost, 1);
    assert.equal((await create(cb.url)).status, 409);
    sim.state.grant(streamer.id, SIM_CLIENT.clientId, []);
    const authorized = await create(cb.url, { type: 'stream.offline' });
    assert.equal(authorized.body.data[0]!.cost, 0);
  });

  it('enforces versions, conditions, transport and scopes as Twitch documents', async () => {
    const cb = await receiver(healthyReceiver);
    const cases: Array<[Record<string, unknown>, number, RegExp]> = [
      [{ type: 'channel.hype_train.begin', version: '1' }, 400, /deprecated/],
      [{ type: 'stream.online', version: '7' }, 400, /invalid subscription type and version/],
      [{ condition: {} }, 400, /condition/],
      [{ condition: { broadcaster_user_id: '999999' } }, 400, /user does not exist/],
      [
        {
          type: 'channel.raid',
          condition: { to_broadcaster_user_id: streamer.id, from_broadcaster_user_id: streamer.id },
        },
        400,
        /exactly one/,
      ],
      [{ transport: { method: 'webhook', callback: cb.url, secret: 'short' } }, 400, /secret/],
      [{ transport: { method: 'websocket', session_id: 'x' } }, 400, /transport/],
      [
        {
          type: 'channel.follow',
          version: '2',
          condition: { broadcaster_user_id: streamer.id, moderator_user_id: streamer.id },
        },
        403,
        /authorization/,
      ],
    ];
    for (const [body, status, message] of cases) {
      const result = await create(cb.url, body);
      assert.equal(result.status, status, JSON.stringify(body));
      assert.match(result.body.message ?? '', message);
    }
    sim.state.grant(streamer.id, SIM_CLIENT.clientId, ['moderator:read:followers']);
    const follow = await create(cb.url, {
      type: 'channel.follow',
      version: '2',
      condition: { broadcaster_user_id: streamer.id, moderator_user_id: streamer.id },
    });
    assert.equal(follow.status, 202);
  });

  it('refuses user tokens and mismatched client ids, and a non-https callback when strict', async () => {
    const userToken = sim.state.issueUserToken(SIM_CLIENT.clientId, streamer.id, []).accessToken;
    assert.equal((await sim.helix('/eventsub/subscriptions', { token: userToken })).status, 401);
    assert.equal(
      (await sim.helix('/eventsub/subscriptions', { headers: { 'client-id': 'someone-else' } }))
        .status,
      401,
    );
    const strict = await startSimulator({ requireHttpsCallback: true });
    closers.push(() => strict.close());
    const user = strict.state.addUser('strict_streamer');
    const response = await strict.helix('/eventsub/subscriptions', {
      method: 'POST',
      body: JSON.stringify({
        type: 'stream.online',
        version: '1',
        condition: { broadcaster_user_id: user.id },
        transport: {
          method: 'webhook',
          callback: 'http://127.0.0.1:1/webhooks/twitch',
          secret: SECRET,
        },
      }),
    });
    assert.equal(response.status, 400);
  });

  it('lists with one filter at a time and pages with a cursor, and deletes', async () => {
    const small = await startSimulator({ rateLimit: 1000 });
    closers.push(() => small.close());
    const cb = await receiver(healthyReceiver);
    const users = Array.from({ length: 5 }, (_, i) => small.state.addUser(`page_user_${i}`));
    for (const user of users) {
      const response = await small.helix('/eventsub/subscriptions', {
        method: 'POST',
        body: JSON.stringify({
          type: 'stream.online',
          version: '1',
          condition: { broadcaster_user_id: user.id },
          transport: { method: 'webhook', callback: cb.url, secret: SECRET },
        }),
      });
      assert.equal(response.status, 202);
    }
    assert.equal(
      (await small.helix('/eventsub/subscriptions?status=enabled&type=stream.online')).status,
      400,
    );
    const byUser = (await (
      await small.helix(`/eventsub/subscriptions?user_id=${users[2]!.id}`)
    ).json()) as { data: Sub[] };
    assert.equal(byUser.data.length, 1);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = (await (
        await small.helix(`/eventsub/subscriptions${cursor ? `?after=${cursor}` : ''}`)
      ).json()) as { data: Sub[]; pagination: { cursor?: string }; total: number };
      seen.push(...page.data.map((s) => s.id));
      cursor = page.pagination.cursor;
    } while (cursor);
    assert.equal(new Set(seen).size, 5);
    assert.equal(
      (await small.helix(`/eventsub/subscriptions?id=${seen[0]}`, { method: 'DELETE' })).status,
      204,
    );
    assert.equal(
      (await small.helix(`/eventsub/subscriptions?id=${seen[0]}`, { method: 'DELETE' })).status,
      404,
    );
    assert.equal((await small.helix('/eventsub/subscriptions', { method: 'DELETE' })).status, 400);
  });

  it('sends rate-limit headers and 429 once the bucket is empty', async () => {
    const limited = await startSimulator({ rateLimit: 3 });
    closers.push(() => limited.close());
    const statuses: number[] = [];
    let headers: Headers | undefined;
    for (let i = 0; i < 5; i++) {
      const response = await limited.helix('/eventsub/subscriptions');
      statuses.push(response.status);
      headers ??= response.headers;
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.equal(headers!.get('ratelimit-limit'), '3');
    assert.equal(headers!.get('ratelimit-remaining'), '2');
    assert.ok(Number(headers!.get('ratelimit-reset')) >= Math.floor(Date.now() / 1000));
  });
});
