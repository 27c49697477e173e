import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createEventSubCostGauges } from '../../src/shared/metrics.js';
import { createHelixClient, TwitchApiError } from '../../src/shared/twitch/helix-client.js';
import { deleteKeys, TEST_REDIS_URL } from '../helpers/redis.js';
import {
  healthyReceiver,
  SIM_CLIENT,
  startCallback,
  startSimulator,
  type RunningSimulator,
} from '../helpers/simulator.js';

const SECRET = 'cost-test-secret-0123';

describe("Twitch's subscription cost budget: reported, exported, and enforced by the simulator", function () {
  this.timeout(20_000);
  let sim: RunningSimulator;
  let redis: Redis;
  let prefix: string;
  let callback: Awaited<ReturnType<typeof startCallback>>;

  beforeEach(async () => {
    sim = await startSimulator({ maxTotalCost: 3 });
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    prefix = `t${randomBytes(5).toString('hex')}`;
    callback = await startCallback(healthyReceiver);
  });
  afterEach(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await callback.close();
    await sim.close();
  });

  it('exports total_cost and max_total_cost from every answer that carries them, up to the 429 at the maximum', async () => {
    const registry = new Registry();
    const gauges = createEventSubCostGauges(registry);
    const reported: Array<{ total: number; max: number }> = [];
    const helix = createHelixClient({
      authUrl: `${sim.url}/oauth2`,
      apiUrl: `${sim.url}/helix`,
      ...SIM_CLIENT,
      redis,
      redisPrefix: prefix,
      onCost: (cost) => {
        reported.push(cost);
        gauges.record(cost);
      },
    });
    const gauge = async (name: string) => {
      const line = (await registry.metrics())
        .split('\n')
        .find((l) => l.startsWith(`${name}{transport="webhook"}`));
      return line === undefined ? undefined : Number(line.split(' ').pop());
    };
    assert.equal(await gauge('streamfeed_eventsub_total_cost'), undefined, 'nothing known yet');

    const created = [];
    for (const login of ['cost_a', 'cost_b', 'cost_c']) {
      const user = sim.state.addUser(login);
      const result = await helix.createSubscription(
        { type: 'stream.online', version: '1', condition: { broadcaster_user_id: user.id } },
        callback.url,
        SECRET,
      );
      created.push(result.subscription!.id);
    }
    assert.deepEqual(reported, [
      { total: 1, max: 3 },
      { total: 2, max: 3 },
      { total: 3, max: 3 },
    ]);
    assert.equal(await gauge('streamfeed_eventsub_total_cost'), 3);
    assert.equal(await gauge('streamfeed_eventsub_max_total_cost'), 3);

    // At the maximum Twitch refuses with 429 while the rate-limit bucket still has points: the
    // client must not wait for a refill that changes nothing.
    const over = sim.state.addUser('cost_d');
    const refused = await sim.helix('/eventsub/subscriptions', {
      method: 'POST',
      body: JSON.stringify({
        type: 'stream.online',
        version: '1',
        condition: { broadcaster_user_id: over.id },
        transport: { method: 'webhook', callback: callback.url, secret: SECRET },
      }),
    });
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('ratelimit-remaining')) > 0);
    assert.match(((await refused.json()) as { message: string }).message, /total cost/);
    await assert.rejects(
      helix.createSubscription(
        { type: 'stream.offline', version: '1', condition: { broadcaster_user_id: over.id } },
        callback.url,
        SECRET,
      ),
      (error: unknown) => error instanceof TwitchApiError && error.status === 429,
    );

    // A deleted subscription gives its cost back; the next list reports it.
    await helix.deleteSubscription(created[0]!);
    await helix.listSubscriptions();
    assert.deepEqual(reported.at(-1), { total: 2, max: 3 });
    assert.equal(await gauge('streamfeed_eventsub_total_cost'), 2);
  });
});
