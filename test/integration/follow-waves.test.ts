import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../../src/shared/connections/redis.js';
import type { StreamEvent } from '../../src/shared/events/event.js';
import { createFeedCache } from '../../src/shared/feed/feed-cache.js';
import { feedKeys } from '../../src/shared/feed/feed-keys.js';
import {
  FOLLOW_WAVE_TYPE,
  createFollowWaves,
  waveIdFor,
  type FollowDecision,
} from '../../src/shared/feed/follow-waves.js';
import { deleteKeys, TEST_REDIS_URL } from '../helpers/redis.js';
import { onCluster, sharedTestCluster } from '../helpers/topology.js';

const follow = (n: number, broadcasterId = '4242'): StreamEvent => ({
  id: `ev_follow${String(n).padStart(4, '0')}`,
  type: 'channel.follow',
  broadcasterId,
  broadcasterLogin: 'raided',
  broadcasterName: 'Raided',
  occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  actor: { id: String(1000 + n), login: `bot_${n}`, name: `Bot_${n}` },
  summary: `Bot_${n} followed`,
  data: {},
});
type Absorbed = Extract<FollowDecision, { kind: 'absorbed' }>;
const absorbed = (decision: FollowDecision): Absorbed => {
  assert.equal(decision.kind, 'absorbed');
  return decision;
};
type Live = Extract<FollowDecision, { kind: 'live' }>;
const live = (decision: FollowDecision): Live => {
  assert.equal(decision.kind, 'live');
  return decision;
};

/**
 * The wave decision (src/shared/feed/follow-waves.ts) is a Redis script: tested on the real
 * thing, with a clock the test sets, on a single Redis or (TEST_REDIS_TOPOLOGY=cluster) a
 * three-master Cluster, which refuses a script whose keys span slots.
 */
describe('follow waves: the decision, in Redis', () => {
  let redis: RedisClient;
  let prefix: string;
  const t0 = Date.UTC(2026, 0, 1);

  const extraClients: RedisClient[] = [];
  async function connect(): Promise<RedisClient> {
    const client = onCluster
      ? new Cluster(
          (await sharedTestCluster()).nodes.map(({ port }) => ({ host: '127.0.0.1', port })),
        )
      : new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    await client.ping().catch((error: Error) => {
      throw new Error(
        `Redis (${onCluster ? 'cluster' : TEST_REDIS_URL}) does not answer: ${error.message}`,
      );
    });
    return client;
  }

  beforeEach(async () => {
    redis = await connect();
    prefix = `t${randomBytes(5).toString('hex')}`;
  });
  afterEach(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    for (const client of extraClients.splice(0)) client.disconnect();
  });

  /** As the processor does: the decision alone; a live follow comes back appended. */
  function setUp(threshold = 3, windowMs = 10_000) {
    const cache = createFeedCache(redis, prefix);
    const waves = createFollowWaves(redis, prefix, { threshold, windowMs });
    const take = (n: number, at: number, messageId = `msg-${n}`) =>
      waves.take(follow(n), messageId, t0 + at);
    return { cache, waves, take };
  }

  it('keeps follows live up to the threshold, then takes the rest of the burst into one wave', async () => {
    const { cache, take } = setUp();
    for (const n of [1, 2, 3]) {
      const row = live(await take(n, n * 10));
      assert.deepEqual([row.created, row.seq], [true, n], 'appended by the decision');
    }
    const opened = absorbed(await take(4, 40));
    assert.equal(opened.action, 'opened');
    assert.equal(opened.created, true);
    assert.equal(opened.seq, 4, 'the wave entry takes the next position');
    assert.equal(opened.follow.data.waveId, waveIdFor(follow(4).id));
    assert.equal(opened.wave!.id, waveIdFor(follow(4).id));
    assert.equal(opened.wave!.type, FOLLOW_WAVE_TYPE);
    assert.equal(opened.wave!.summary, 'Follow wave: 1 new follower in 1 s');
    assert.equal(opened.wave!.occurredAt, new Date(t0 + 40).toISOString());

    const decisions = [];
    for (let n = 5; n <= 40; n++) decisions.push(absorbed(await take(n, 40 + (n - 4) * 350)));
    const last = decisions.at(-1)!;
    assert.equal(last.seq, 4, 'every follow of the wave shares its position');
    assert.equal(last.wave!.data.count, 37);
    assert.equal(last.wave!.summary, 'Follow wave: 37 new followers in 13 s');
    assert.deepEqual(
      (last.wave!.data.latest as Array<{ login: string }>).map((a) => a.login).slice(0, 3),
      ['bot_40', 'bot_39', 'bot_38'],
      'the newest followers first',
    );
    assert.equal((last.wave!.data.latest as unknown[]).length, 10);
    // At most one update a second: a publish when a second has passed, else one trailing one.
    const actions = decisions.map((d) => d.action);
    const publishes = actions.filter((a) => a === 'publish').length;
    assert.ok(publishes >= 9 && publishes <= 13, `${publishes} publishes over 12.6 s`);
    assert.ok(
      actions.filter((a) => a === 'schedule').length <= 1,
      'no second trailing update while one is due',
    );

    // The live feed holds three follows and the wave: nothing else got a position.
    assert.equal(await cache.currentSeq('4242'), 4);
    const latest = await cache.latest('4242', 10);
    assert.deepEqual(
      latest.map((e) => e.event.id),
      [waveIdFor(follow(4).id), ...[3, 2, 1].map((n) => follow(n).id)],
    );
    assert.equal(latest[0]!.event.data.count, 37, 'the cached entry is the wave as it is now');
  });

  it('gives a retried follow its first answer, and a re-sent one is known as a duplicate', async () => {
    const { take } = setUp();
    for (const n of [1, 2, 3, 4, 5]) await take(n, n);
    const retried = absorbed(await take(5, 500, 'msg-5'));
    assert.equal(retried.created, false);
    assert.equal(retried.messageId, 'msg-5');
    assert.equal(retried.seq, 4);
    assert.equal(retried.wave!.data.count, 2, 'not counted twice');
    const resent = absorbed(await take(5, 600, 'another-message'));
    assert.equal(resent.messageId, 'msg-5', 'the message that delivered it first');
    // A follow appended live before a wave opened stays live, with its first answer.
    assert.deepEqual(await take(2, 700), {
      kind: 'live',
      created: false,
      seq: 2,
      event: follow(2),
      messageId: 'msg-2',
    });
  });

  it('sends the trailing update with the state the wave has by then', async () => {
    const { waves, take } = setUp();
    for (const n of [1, 2, 3, 4]) await take(n, n);
    const scheduled = absorbed(await take(5, 100));
    assert.equal(scheduled.action, 'schedule');
    assert.equal(scheduled.flushAt, t0 + 4 + 1000);
    assert.equal(absorbed(await take(6, 200)).action, 'none');
    const flushed = await waves.flush('4242', scheduled.wave!.id, t0 + 1004);
    assert.equal(flushed!.seq, 4);
    assert.equal(flushed!.wave.data.count, 3);
    // Flushed just now: the next follow within the second schedules the next trailing update.
    assert.equal(absorbed(await take(7, 1100)).action, 'schedule');
    assert.equal(await waves.flush('4242', 'wave_unknown', t0 + 2000), null);
  });

  it('ends the wave when the window no longer holds more than the threshold', async () => {
    const { cache, waves, take } = setUp(3, 1000);
    for (const n of [1, 2, 3, 4, 5]) await take(n, n * 100);
    assert.equal(live(await take(6, 5000)).seq, 5, 'a follow after the burst is a row');
    assert.equal(await cache.currentSeq('4242'), 5);
    // The closed wave's trailing update can still be sent.
    assert.equal(
      (await waves.flush('4242', waveIdFor(follow(4).id), t0 + 5100))!.wave.data.count,
      2,
    );
    for (const n of [7, 8]) assert.equal((await take(n, 5000 + n)).kind, 'live');
    const next = absorbed(await take(9, 5010));
    assert.equal(next.action, 'opened');
    assert.equal(next.wave!.id, waveIdFor(follow(9).id), 'a new burst is a new wave');
    assert.equal(next.seq, 8);
    const recent = await redis.zcard(feedKeys(prefix, '4242').recentFollows);
    assert.ok(recent <= 4, `the window keeps threshold + 1 follows at most, not ${recent}`);
  });

  it('appends a live follow in the decision, and gives a retry the first answer', async () => {
    const { cache, take } = setUp();
    const first = await take(1, 10);
    assert.deepEqual(first, {
      kind: 'live',
      created: true,
      seq: 1,
      event: follow(1),
      messageId: 'msg-1',
    });
    const cached = await cache.latest('4242', 10);
    assert.deepEqual(cached, [{ seq: 1, event: follow(1) }], 'the entry is in the feed cache');
    assert.equal(await cache.seqOf('4242', follow(1).id), 1);

    const retried = live(await take(1, 20, 'msg-1'));
    assert.deepEqual(
      [retried.created, retried.seq, retried.messageId],
      [false, 1, 'msg-1'],
      'a retry gets its first answer again',
    );
    const resent = live(await take(1, 30, 'another-message'));
    assert.deepEqual([resent.created, resent.messageId], [false, 'msg-1']);
    // The decision and the plain append share one dedupe index: either knows what the other did.
    const appended = await cache.append(follow(1), 'msg-x');
    assert.deepEqual([appended.created, appended.seq, appended.messageId], [false, 1, 'msg-1']);
    await cache.append(follow(2), 'msg-2');
    const known = live(await take(2, 40));
    assert.deepEqual(
      [known.created, known.seq],
      [false, 2],
      'a follow appended before (backfilled) is live and not appended again',
    );
    assert.equal(await cache.currentSeq('4242'), 2);
    const recent = await redis.zcard(feedKeys(prefix, '4242').recentFollows);
    assert.equal(recent, 1, 'a retry or a known follow does not count in the window again');
  });

  it('never lets a follow decided live come above a wave opened after it, under concurrency', async () => {
    const threshold = 20;
    const clients = await Promise.all([connect(), connect(), connect()]);
    extraClients.push(...clients);
    const waves = clients.map((client) =>
      createFollowWaves(client, prefix, { threshold, windowMs: 10_000 }),
    );
    const decisions = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        waves[i % waves.length]!.take(follow(i + 1), `msg-${i + 1}`, t0 + i),
      ),
    );
    const lives = decisions.filter((d): d is Live => d.kind === 'live');
    const taken = decisions.filter((d): d is Absorbed => d.kind === 'absorbed');
    assert.equal(lives.length, threshold, 'the window holds every follow: the first 20 are rows');
    assert.equal(taken.filter((d) => d.action === 'opened').length, 1, 'one wave');
    const waveSeq = taken[0]!.seq;
    assert.ok(
      taken.every((d) => d.seq === waveSeq),
      'every follow taken in shares the one entry',
    );
    assert.ok(
      lives.every((d) => d.created && d.seq < waveSeq),
      `live seqs ${lives.map((d) => d.seq).join(',')} must all be below the wave's ${waveSeq}`,
    );
    const seqs = [...lives.map((d) => d.seq), waveSeq].sort((a, b) => a - b);
    assert.deepEqual(
      seqs,
      Array.from({ length: threshold + 1 }, (_, i) => i + 1),
      'unique and without holes',
    );
    const cache = createFeedCache(redis, prefix);
    assert.equal(await cache.currentSeq('4242'), threshold + 1);
    const newest = await cache.latest('4242', threshold + 1);
    assert.equal(newest[0]!.event.id, taken[0]!.wave!.id, 'the wave entry is the newest');
    assert.equal(newest[0]!.event.data.count, 60 - threshold);
    assert.deepEqual(
      newest.slice(1).map((e) => e.seq),
      Array.from({ length: threshold }, (_, i) => threshold - i),
    );
  });
});
