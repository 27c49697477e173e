import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createHelixClient, TwitchApiError } from '../../src/shared/twitch/helix-client.js';
import { deleteKeys, TEST_REDIS_URL } from '../helpers/redis.js';
import {
  healthyReceiver,
  SIM_CLIENT,
  startCallback,
  startSimulator,
  type RunningSimulator,
} from '../helpers/simulator.js';

describe('Helix client against the simulator', function () {
  this.timeout(20_000);
  let sim: RunningSimulator;
  let redis: Redis;
  let prefix: string;
  let callback: Awaited<ReturnType<typeof startCallback>>;

  beforeEach(async () => {
    sim = await startSimulator({ pageSize: 2 });
    redis = new Redis(TEST_REDIS_URL);
    prefix = `t${randomBytes(5).toString('hex')}`;
    callback = await startCallback(healthyReceiver);
  });
  afterEach(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await callback.close();
    await sim.close();
  });

  const client = (extra: Partial<Parameters<typeof createHelixClient>[0]> = {}) =>
    createHelixClient({
      authUrl: `${sim.url}/oauth2`,
      apiUrl: `${sim.url}/helix`,
      ...SIM_CLIENT,
      redis,
      redisPrefix: prefix,
      ...extra,
    });

  it('gets an app token once, shares it through Redis, and replaces it after a 401', async () => {
    const first = client();
    const user = sim.state.addUser('helix_user');
    assert.deepEqual(
      (await first.getUsers({ ids: [user.id] })).map((u) => u.login),
      ['helix_user'],
    );
    const token = await first.appToken();
    assert.equal(await client().appToken(), token, 'a second process reuses the shared token');
    sim.state.revokeToken(token);
    assert.deepEqual(
      (await first.getUsers({ logins: ['helix_user'] })).map((u) => u.id),
      [user.id],
    );
    assert.notEqual(await first.appToken(), token);
  });

  it('names the cause when the app credentials are wrong', async () => {
    await assert.rejects(
      client({ clientSecret: 'wrong' }).getUsers({ ids: ['1'] }),
      (e: unknown) => e instanceof TwitchApiError && /app credentials/.test(e.message),
    );
  });

  it('creates, treats 409 as success, lists across pages and deletes idempotently', async () => {
    const helix = client();
    const streamers = ['a_streamer', 'b_streamer', 'c_streamer'].map((login) =>
      sim.state.addUser(login),
    );
    for (const streamer of streamers) {
      const created = await helix.createSubscription(
        { type: 'stream.online', version: '1', condition: { broadcaster_user_id: streamer.id } },
        callback.url,
        'helix-client-secret',
      );
      assert.equal(created.created, true);
    }
    const again = await helix.createSubscription(
      { type: 'stream.online', version: '1', condition: { broadcaster_user_id: streamers[0]!.id } },
      callback.url,
      'helix-client-secret',
    );
    assert.deepEqual(again, { created: false, subscription: null });
    const listed = await helix.listSubscriptions();
    assert.equal(listed.length, 3, 'all three, over two pages of two');
    const firstPage = (await (await sim.helix('/eventsub/subscriptions')).json()) as {
      data: unknown[];
      pagination: { cursor?: string };
    };
    assert.equal(firstPage.data.length, 2);
    assert.ok(firstPage.pagination.cursor);
    await helix.deleteSubscription(listed[0]!.id);
    await helix.deleteSubscription(listed[0]!.id);
    assert.equal((await helix.listSubscriptions()).length, 2);
    await assert.rejects(
      helix.createSubscription(
        {
          type: 'stream.online',
          version: '9',
          condition: { broadcaster_user_id: streamers[0]!.id },
        },
        callback.url,
        'helix-client-secret',
      ),
      /400/,
    );
  });

  it('waits for the rate-limit bucket to refill instead of failing', async () => {
    const limited = await startSimulator({ rateLimit: 60 });
    try {
      const helix = createHelixClient({
        authUrl: `${limited.url}/oauth2`,
        apiUrl: `${limited.url}/helix`,
        ...SIM_CLIENT,
        redis,
        redisPrefix: `${prefix}b`,
      });
      const started = Date.now();
      for (let i = 0; i < 62; i++) await helix.getUsers({ ids: ['1'] });
      assert.ok(Date.now() - started >= 900, 'the 61st and 62nd calls waited for the refill');
      await assert.rejects(
        createHelixClient({
          authUrl: `${limited.url}/oauth2`,
          apiUrl: `${limited.url}/helix`,
          ...SIM_CLIENT,
          redis,
          redisPrefix: `${prefix}b`,
          maxRateLimitWaitMs: 0,
        }).getUsers({ ids: ['1'] }),
        (e: unknown) => e instanceof TwitchApiError && e.status === 429,
      );
    } finally {
      await limited.close();
    }
  });
});
