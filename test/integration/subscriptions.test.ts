import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createStreamerStore } from '../../src/shared/db/streamer-store.js';
import { createSubscriptionStore } from '../../src/shared/db/subscription-store.js';
import { QUEUES, bullPrefix, queueShardName } from '../../src/shared/queues.js';
import { ENSURE_PRIORITY, queueEnsureSubscriptions } from '../../src/shared/subscription-jobs.js';
import { createHelixClient } from '../../src/shared/twitch/helix-client.js';
import { STREAMER_MODE_SCOPES } from '../../src/shared/twitch/subscription-plan.js';
import { createEnsureSubscriptionsProcessor } from '../../src/workers/processors/ensure-subscriptions.processor.js';
import { createReconcileSubscriptionsProcessor } from '../../src/workers/processors/reconcile-subscriptions.processor.js';
import { createTestDatabase } from '../helpers/database.js';
import { deleteKeys, TEST_REDIS_URL } from '../helpers/redis.js';
import {
  healthyReceiver,
  SIM_CLIENT,
  startCallback,
  startSimulator,
  waitUntil,
  type RunningSimulator,
} from '../helpers/simulator.js';

const SECRET = 'subscription-test-secret';

describe('EventSub subscription manager against the simulator', function () {
  this.timeout(30_000);
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let sim: RunningSimulator;
  let redis: Redis;
  let queue: Queue;
  let callback: Awaited<ReturnType<typeof startCallback>>;
  let ensure: ReturnType<typeof createEnsureSubscriptionsProcessor>;
  let reconcile: (
    idleMs: number,
  ) => ReturnType<ReturnType<typeof createReconcileSubscriptionsProcessor>>;
  let prefix: string;

  beforeEach(async () => {
    database = await createTestDatabase();
    sim = await startSimulator();
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    prefix = `t${randomBytes(5).toString('hex')}`;
    queue = new Queue(queueShardName(QUEUES.subscriptions), {
      connection: redis,
      prefix: bullPrefix(prefix),
    });
    callback = await startCallback(healthyReceiver);
    const deps = {
      helix: createHelixClient({
        authUrl: `${sim.url}/oauth2`,
        apiUrl: `${sim.url}/helix`,
        ...SIM_CLIENT,
        redis,
        redisPrefix: prefix,
      }),
      subscriptions: createSubscriptionStore(database.knex),
      streamers: createStreamerStore(database.knex),
      callbackUrl: callback.url,
      secret: SECRET,
      log: pino({ level: 'silent' }),
    };
    ensure = createEnsureSubscriptionsProcessor(deps);
    reconcile = (idleMs) =>
      createReconcileSubscriptionsProcessor({ ...deps, subscriptionsQueue: queue, idleMs })();
  });
  afterEach(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await callback.close();
    await sim.close();
    await database.drop();
  });

  async function streamer(login: string, fans: number, scopes: string[] = []) {
    const user = sim.state.addUser(login);
    if (scopes.length) sim.state.grant(user.id, SIM_CLIENT.clientId, scopes);
    await createStreamerStore(database.knex).upsert({
      id: user.id,
      login,
      displayName: login,
      profileImageUrl: '',
    });
    if (scopes.length) await createStreamerStore(database.knex).setGrantedScopes(user.id, scopes);
    for (let i = 0; i < fans; i++) {
      await database.knex('users').insert({
        id: `${user.id}-fan-${i}`,
        login: `fan_${i}_${login}`,
        display_name: 'Fan',
        favorite_streamer_id: user.id,
      });
    }
    return user;
  }
  const job = (broadcasterId: string) =>
    ({ data: { broadcasterId } }) as Job<{ broadcasterId: string }>;
  const remote = () => [...sim.state.subscriptions.values()];
  const allEnabled = () => remote().every((s) => s.status === 'enabled');

  it('creates one shared set per streamer, whatever the number of viewers, and nothing twice', async () => {
    const s = await streamer('shared_streamer', 3);
    assert.deepEqual(await ensure(job(s.id)), { created: 5, failed: 0 });
    await waitUntil(allEnabled, 5000, 'verification');
    assert.deepEqual(
      remote()
        .map((r) => r.type)
        .sort(),
      ['channel.raid', 'channel.raid', 'channel.update', 'stream.offline', 'stream.online'],
    );
    assert.deepEqual(await ensure(job(s.id)), { created: 0, failed: 0 });
    assert.equal(remote().length, 5);
    const records = await createSubscriptionStore(database.knex).forBroadcaster(s.id);
    assert.equal(records.length, 5);
    assert.ok(records.every((r) => r.twitchId && sim.state.subscriptions.has(r.twitchId)));
  });

  it('adds the types a streamer unlocked in streamer mode', async () => {
    const s = await streamer('mode_streamer', 1, STREAMER_MODE_SCOPES);
    const result = await ensure(job(s.id));
    assert.equal(result.failed, 0);
    const types = new Set(remote().map((r) => r.type));
    for (const type of [
      'channel.follow',
      'channel.subscribe',
      'channel.cheer',
      'channel.hype_train.begin',
      'channel.poll.end',
      'channel.prediction.lock',
      'channel.channel_points_custom_reward_redemption.add',
    ]) {
      assert.ok(types.has(type), type);
    }
    const follow = remote().find((r) => r.type === 'channel.follow')!;
    assert.deepEqual(follow.condition, { broadcaster_user_id: s.id, moderator_user_id: s.id });
  });

  it('treats 409 as success, and records a type Twitch refuses with the reason', async () => {
    const s = await streamer('conflict_streamer', 1);
    const helix = createHelixClient({
      authUrl: `${sim.url}/oauth2`,
      apiUrl: `${sim.url}/helix`,
      ...SIM_CLIENT,
      redis,
      redisPrefix: prefix,
    });
    await helix.createSubscription(
      { type: 'stream.online', version: '1', condition: { broadcaster_user_id: s.id } },
      callback.url,
      SECRET,
    );
    // streamfeed believes the streamer granted bits:read; Twitch knows better.
    await createStreamerStore(database.knex).setGrantedScopes(s.id, ['bits:read']);
    assert.deepEqual(await ensure(job(s.id)), { created: 4, failed: 1 });
    const records = await createSubscriptionStore(database.knex).forBroadcaster(s.id);
    assert.equal(records.find((r) => r.type === 'stream.online')!.status, 'enabled');
    const cheer = records.find((r) => r.type === 'channel.cheer')!;
    assert.equal(cheer.status, 'failed');
    assert.match(cheer.lastError ?? '', /403.*authorization/);
  });

  it('stops at the cost budget and records why, instead of waiting on it', async () => {
    const small = await startSimulator({ maxTotalCost: 2 });
    try {
      const helix = createHelixClient({
        authUrl: `${small.url}/oauth2`,
        apiUrl: `${small.url}/helix`,
        ...SIM_CLIENT,
        redis,
        redisPrefix: `${prefix}c`,
      });
      const user = small.state.addUser('costly_streamer');
      await createStreamerStore(database.knex).upsert({
        id: user.id,
        login: 'costly_streamer',
        displayName: 'Costly',
        profileImageUrl: '',
      });
      const costly = createEnsureSubscriptionsProcessor({
        helix,
        subscriptions: createSubscriptionStore(database.knex),
        streamers: createStreamerStore(database.knex),
        callbackUrl: callback.url,
        secret: SECRET,
        log: pino({ level: 'silent' }),
      });
      const started = Date.now();
      assert.deepEqual(await costly(job(user.id)), { created: 2, failed: 3 });
      assert.ok(Date.now() - started < 5000, 'no waiting on a budget that will not refill');
      const records = await createSubscriptionStore(database.knex).forBroadcaster(user.id);
      assert.equal(
        records.filter((r) => r.status === 'failed' && /429.*cost/.test(r.lastError ?? '')).length,
        3,
      );
    } finally {
      await small.close();
    }
  });

  it('queues re-ensures once per streamer, behind every viewer', async () => {
    const a = await streamer('queued_a', 1);
    const b = await streamer('queued_b', 1);
    await reconcile(3600_000);
    await reconcile(3600_000);
    const queued = await queue.getJobs(['waiting', 'prioritized']);
    assert.deepEqual(
      queued.map((j) => (j.data as { broadcasterId: string }).broadcasterId).sort(),
      [a.id, b.id].sort(),
      'a round that has not drained adds no second job per streamer',
    );
    assert.ok(
      queued.every((j) => j.opts.priority === ENSURE_PRIORITY.reconcile),
      'after any viewer',
    );
    await queueEnsureSubscriptions(queue, a.id, { by: 'viewer', changesInWindow: 1 });
    assert.equal((await queue.getJobs(['prioritized'], 0, 0, true))[0]!.opts.priority, 1);
  });

  it('reconciles: re-creates revoked subscriptions, adopts unknown ones, and removes unneeded ones', async () => {
    const kept = await streamer('kept_streamer', 1);
    const dropped = await streamer('dropped_streamer', 1);
    await ensure(job(kept.id));
    await ensure(job(dropped.id));
    await waitUntil(allEnabled, 5000, 'verification');
    const revoked = remote().find(
      (r) => r.type === 'stream.online' && r.condition.broadcaster_user_id === kept.id,
    )!;
    revoked.status = 'authorization_revoked';
    await database
      .knex('users')
      .where({ favorite_streamer_id: dropped.id })
      .update({ favorite_streamer_id: null });

    const first = await reconcile(3600_000);
    assert.equal(first.deleted, 1, 'the revoked one');
    const waiting = await queue.getJobs(['waiting', 'prioritized']);
    assert.deepEqual(
      waiting.map((j) => (j.data as { broadcasterId: string }).broadcasterId).sort(),
      [kept.id, dropped.id].sort(),
      'a streamer unwanted for less than the idle time keeps its set',
    );
    assert.equal((await ensure(job(kept.id))).created, 1, 'the revoked one is back');
    await queue.obliterate({ force: true });

    const second = await reconcile(0);
    assert.equal(second.deleted, 5, 'the unwanted streamer lost its whole set');
    assert.equal(second.forgotten, 5, 'and its records');
    assert.ok(
      remote().every(
        (r) =>
          r.condition.broadcaster_user_id === kept.id ||
          r.condition.to_broadcaster_user_id === kept.id ||
          r.condition.from_broadcaster_user_id === kept.id,
      ),
    );
    assert.deepEqual(await createSubscriptionStore(database.knex).forBroadcaster(dropped.id), []);
    assert.equal((await createSubscriptionStore(database.knex).forBroadcaster(kept.id)).length, 5);
  });
});
