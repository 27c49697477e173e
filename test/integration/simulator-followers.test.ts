import assert from 'node:assert/strict';
import {
  SIM_CLIENT,
  healthyReceiver,
  startCallback,
  startSimulator,
  waitUntil,
  type RunningSimulator,
} from '../helpers/simulator.js';
import { createHelixFollowers } from '../../src/shared/twitch/helix-followers.js';

const SCOPE = 'moderator:read:followers';
interface Page {
  total: number;
  data: Array<{ user_id: string; user_login: string; user_name: string; followed_at: string }>;
  pagination: { cursor?: string };
}

describe('simulator: Helix GET /channels/followers (PROTOCOL.md section 9)', function () {
  this.timeout(30_000);
  let sim: RunningSimulator;
  let streamer: { id: string };
  let token: string;
  const logins = Array.from({ length: 45 }, (_, i) => `fan_${String(i).padStart(3, '0')}`);

  const follow = async (names: string[], deliver = false) => {
    const response = await fetch(`${sim.url}/sim/follows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ broadcasterId: streamer.id, logins: names, deliver }),
    });
    assert.equal(response.status, 200);
    return (await response.json()) as {
      events: Array<Record<string, string>>;
      deliveries: Array<{ delivered: boolean }>;
    };
  };
  const followers = async (query: string, as = token) => {
    const response = await sim.helix(`/channels/followers?${query}`, { token: as });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Page,
    };
  };

  beforeEach(async () => {
    sim = await startSimulator();
    streamer = sim.state.addUser('followed_streamer');
    sim.state.grant(streamer.id, SIM_CLIENT.clientId, [SCOPE]);
    token = sim.state.issueUserToken(SIM_CLIENT.clientId, streamer.id, [SCOPE]).accessToken;
    await follow(logins);
  });
  afterEach(() => sim.close());

  it('pages newest first with the after cursor, to the second, with total', async () => {
    const seen: Page['data'] = [];
    let cursor: string | undefined;
    const sizes: number[] = [];
    do {
      const { status, body } = await followers(
        `broadcaster_id=${streamer.id}&first=20${cursor ? `&after=${cursor}` : ''}`,
      );
      assert.equal(status, 200);
      assert.equal(body.total, 45);
      sizes.push(body.data.length);
      seen.push(...body.data);
      cursor = body.pagination.cursor;
      if (!cursor) assert.deepEqual(body.pagination, {}, 'pagination is {} on the last page');
    } while (cursor);
    assert.deepEqual(sizes, [20, 20, 5]);
    assert.deepEqual(
      seen.map((f) => f.user_login),
      [...logins].reverse(),
      'most recent first',
    );
    for (const f of seen) {
      assert.match(f.followed_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(f.user_id, sim.state.userByLogin(f.user_login)!.id);
    }
    const times = seen.map((f) => f.followed_at);
    assert.deepEqual(times, [...times].sort().reverse(), 'descending followed_at');
  });

  it('keeps its place when follows happen while paging', async () => {
    const first = await followers(`broadcaster_id=${streamer.id}&first=10`);
    await follow(['late_fan_1', 'late_fan_2']);
    const second = await followers(
      `broadcaster_id=${streamer.id}&first=10&after=${first.body.pagination.cursor}`,
    );
    assert.equal(second.body.total, 47, 'total may change while paging');
    assert.deepEqual(
      second.body.data.map((f) => f.user_login),
      [...logins].reverse().slice(10, 20),
    );
    const fresh = await followers(`broadcaster_id=${streamer.id}&first=2`);
    assert.deepEqual(
      fresh.body.data.map((f) => f.user_login),
      ['late_fan_2', 'late_fan_1'],
    );
  });

  it('defaults first to 20 and refuses first outside 1-100 with a Helix 400', async () => {
    assert.equal((await followers(`broadcaster_id=${streamer.id}`)).body.data.length, 20);
    assert.equal((await followers(`broadcaster_id=${streamer.id}&first=1`)).body.data.length, 1);
    assert.equal((await followers(`broadcaster_id=${streamer.id}&first=100`)).body.data.length, 45);
    for (const bad of ['0', '101', 'ten', '-5', '2.5']) {
      const { status, body } = await followers(`broadcaster_id=${streamer.id}&first=${bad}`);
      assert.equal(status, 400, `first=${bad}`);
      assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'status']);
      assert.equal((body as unknown as { error: string }).error, 'Bad Request');
    }
    assert.equal((await followers('first=5')).status, 400, 'broadcaster_id missing');
    assert.equal((await followers('broadcaster_id=123456')).status, 400, 'no such user');
    assert.equal((await followers(`broadcaster_id=${streamer.id}&after=garbage`)).status, 400);
  });

  it('gives only total to a token without the scope or of another user; 401 with user_id', async () => {
    const scopeless = sim.state.issueUserToken(SIM_CLIENT.clientId, streamer.id, []).accessToken;
    const other = sim.state.addUser('other_user');
    const otherToken = sim.state.issueUserToken(SIM_CLIENT.clientId, other.id, [SCOPE]).accessToken;
    for (const as of [scopeless, otherToken]) {
      const { status, body } = await followers(`broadcaster_id=${streamer.id}`, as);
      assert.equal(status, 200);
      assert.deepEqual(body, { total: 45, data: [], pagination: {} });
    }
    const fan = sim.state.userByLogin('fan_007')!;
    const one = await followers(`broadcaster_id=${streamer.id}&user_id=${fan.id}`);
    assert.deepEqual(
      one.body.data.map((f) => f.user_login),
      ['fan_007'],
    );
    assert.equal(
      (await followers(`broadcaster_id=${streamer.id}&user_id=${fan.id}`, scopeless)).status,
      401,
    );
    assert.equal((await followers(`broadcaster_id=${streamer.id}`, sim.appToken)).status, 401);
    assert.equal((await followers(`broadcaster_id=${streamer.id}`, 'not-a-token')).status, 401);
  });

  it('records follows made with the control route without delivering them, unless asked', async () => {
    const receiver = await startCallback(healthyReceiver);
    try {
      const created = await sim.helix('/eventsub/subscriptions', {
        method: 'POST',
        body: JSON.stringify({
          type: 'channel.follow',
          version: '2',
          condition: { broadcaster_user_id: streamer.id, moderator_user_id: streamer.id },
          transport: { method: 'webhook', callback: receiver.url, secret: 'follow-test-secret' },
        }),
      });
      assert.equal(created.status, 202);
      await waitUntil(
        () => [...sim.state.subscriptions.values()].some((s) => s.status === 'enabled'),
        5000,
        'the follow subscription verified',
      );
      const verified = receiver.requests.length;
      const quiet = await follow(['quiet_fan']);
      assert.deepEqual(quiet.deliveries, []);
      assert.equal(receiver.requests.length, verified, 'no webhook for an undelivered follow');
      const loud = await follow(['loud_fan'], true);
      assert.deepEqual(
        loud.deliveries.map((d) => d.delivered),
        [true],
      );
      const delivered = JSON.parse(receiver.requests.at(-1)!.body) as {
        event: Record<string, string>;
      };
      assert.equal(delivered.event.user_login, 'loud_fan');
      assert.match(delivered.event.followed_at!, /\.\d{9}Z$/, 'EventSub has nanoseconds');
      const listed = (await followers(`broadcaster_id=${streamer.id}&first=2`)).body.data;
      assert.deepEqual(
        listed.map((f) => f.user_login),
        ['loud_fan', 'quiet_fan'],
      );
      assert.equal(listed[0]!.followed_at, `${delivered.event.followed_at!.slice(0, 19)}Z`);
    } finally {
      await receiver.close();
    }
  });

  it('sends the rate-limit headers, 429 once the bucket is empty', async () => {
    const limited = await startSimulator({ rateLimit: 3 });
    try {
      const user = limited.state.addUser('limited_streamer');
      const as = limited.state.issueUserToken(SIM_CLIENT.clientId, user.id, [SCOPE]).accessToken;
      const answers = [];
      for (let i = 0; i < 4; i++) {
        answers.push(
          await limited.helix(`/channels/followers?broadcaster_id=${user.id}`, { token: as }),
        );
      }
      assert.deepEqual(
        answers.map((r) => r.status),
        [200, 200, 200, 429],
      );
      assert.deepEqual(
        answers.map((r) => r.headers.get('ratelimit-remaining')),
        ['2', '1', '0', '0'],
      );
      const refused = answers[3]!;
      assert.equal(refused.headers.get('ratelimit-limit'), '3');
      const reset = Number(refused.headers.get('ratelimit-reset'));
      assert.ok(reset * 1000 > Date.now(), 'Ratelimit-Reset is a Unix time in seconds, ahead');
      assert.ok(reset * 1000 < Date.now() + 61_000);
      assert.deepEqual(await refused.json(), {
        error: 'Too Many Requests',
        status: 429,
        message: 'Too Many Requests',
      });
    } finally {
      await limited.close();
    }
  });

  it("streamfeed's followers client waits for Ratelimit-Reset on a 429 and then goes on", async () => {
    const limited = await startSimulator({ rateLimit: 120 });
    try {
      const user = limited.state.addUser('busy_streamer');
      const as = limited.state.issueUserToken(SIM_CLIENT.clientId, user.id, [SCOPE]).accessToken;
      await fetch(`${limited.url}/sim/follows`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ broadcasterId: user.id, logins: ['busy_fan_1', 'busy_fan_2'] }),
      });
      // Empty the bucket, as other work with the same token would.
      let status = 200;
      while (status !== 429) {
        const r = await limited.helix(`/channels/followers?broadcaster_id=${user.id}`, {
          token: as,
        });
        status = r.status;
        await r.arrayBuffer();
      }
      const waits: number[] = [];

      const client = createHelixFollowers({
        authUrl: `${limited.url}/oauth2`,
        apiUrl: `${limited.url}/helix`,
        ...SIM_CLIENT,
        token: { accessToken: as, refreshToken: null },
        saveToken: () => Promise.resolve(),
        onRateLimitWait: (ms) => waits.push(ms),
      });
      const started = Date.now();
      const page = await client.page(user.id, 1);
      assert.ok(waits.length >= 1, 'it waited for the bucket');
      assert.ok(Date.now() - started >= Math.min(...waits) - 50);
      assert.deepEqual(
        page.data.map((f) => f.user_login),
        ['busy_fan_2'],
      );
      assert.ok(page.cursor);
      const next = await client.page(user.id, 1, page.cursor);
      assert.deepEqual(
        next.data.map((f) => f.user_login),
        ['busy_fan_1'],
      );
      assert.equal(next.cursor, undefined);
    } finally {
      await limited.close();
    }
  });
});
