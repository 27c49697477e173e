import assert from 'node:assert/strict';
import type { StreamEvent } from '../../src/shared/events/event.js';
import { fakeUsers, seededRandom } from '../../src/simulator/event-factory.js';
import { rngOf } from '../../src/simulator/event-factory/random.js';
import { runTraffic } from '../../src/simulator/traffic/traffic-generator.js';
import { FOLLOW_WAVE_TYPE } from '../../src/shared/feed/follow-waves.js';
import { EVENTSUB_SECRET, startStack, type Stack } from '../helpers/stack.js';
import { waitUntil } from '../helpers/simulator.js';
import { listAll } from '../helpers/history.js';

const SEED = 1414;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A follow-bot raid from the traffic generator through web, processor, emitter and two realtime
 * nodes (on a single Redis, or a Cluster under TEST_REDIS_TOPOLOGY=cluster).
 */
describe('a follow-bot raid through the real pipeline', function () {
  this.timeout(120_000);
  let stack: Stack;

  before(async () => {
    stack = await startStack({
      env: { FOLLOW_WAVE_THRESHOLD: '20', FOLLOW_WAVE_WINDOW_SECONDS: '10' },
    });
  });
  after(async () => {
    await stack?.stop();
  });

  it('reaches watchers on both nodes as 20 follows and one growing wave, and stores all 300', async () => {
    // The generator's first streamer, the one its raid is on.
    const streamer = fakeUsers(1001, rngOf(seededRandom(SEED)).random)[0]!;
    const watchers = [await stack.watcher(0), await stack.watcher(1)];
    const updates: Array<Array<{ at: number; wave: StreamEvent }>> = [[], []];
    watchers.forEach((watcher, i) =>
      watcher.socket.on('event:updated', (wave: StreamEvent) =>
        updates[i]!.push({ at: Date.now(), wave }),
      ),
    );
    for (const watcher of watchers) assert.equal((await watcher.watch(streamer.id)).ok, true);

    const raid = runTraffic({
      webhookUrl: stack.webhookUrl,
      secret: EVENTSUB_SECRET,
      streamers: 1,
      followRaid: true,
      rate: 30,
      count: 300,
      seed: SEED,
    });
    // A viewer who comes in mid-wave gets the wave entry, not the rows it took in.
    await waitUntil(
      () => updates[1]!.length >= 2,
      20_000,
      'the wave under way, as its second update shows',
    );
    const late = await stack.watcher(1, 'viewer-late');
    const ack = await late.watch(streamer.id);
    const summary = await raid;
    assert.equal(summary.accepted, 300, JSON.stringify(summary));

    await waitUntil(
      () => updates.every((list) => list.at(-1)?.wave.data.count === 280),
      20_000,
      'the final state, 280 followers, on both nodes',
    );
    await sleep(1500); // nothing more is to come
    for (const [i, watcher] of watchers.entries()) {
      const got = watcher.received;
      assert.equal(new Set(got.map((e) => e.id)).size, got.length, 'no event twice');
      const follows = got.filter((e) => e.type === 'channel.follow');
      const waves = got.filter((e) => e.type === FOLLOW_WAVE_TYPE);
      assert.equal(follows.length, 20, 'the first 20 follows are rows');
      assert.equal(waves.length, 1, 'the rest is one entry');
      assert.equal(got.length, 21);
      assert.equal(got.at(-1)!.type, FOLLOW_WAVE_TYPE, 'delivered in feed order: the rows first');
      assert.ok(follows.every((e) => e.data.waveId === undefined));
      const counts = updates[i]!.map((u) => Number(u.wave.data.count));
      assert.deepEqual(
        counts,
        [...counts].sort((a, b) => a - b),
        'each update newer than the last',
      );
      assert.ok(
        counts.length >= 5 && counts.length <= 16,
        `about one update a second over the ~9 s wave, not ${counts.length}`,
      );
      assert.ok(updates[i]!.every((u) => u.wave.id === waves[0]!.id));
      assert.match(
        String(updates[i]!.at(-1)!.wave.summary),
        /^Follow wave: 280 new followers in \d+ s$/,
      );
    }
    assert.deepEqual(updates[0]!.at(-1)!.wave, updates[1]!.at(-1)!.wave, 'the same entry on both');

    assert.equal(ack.ok, true);
    const backlog = ack.ok ? ack.backlog : [];
    assert.ok(
      backlog.some((e) => e.type === FOLLOW_WAVE_TYPE),
      `the wave is in the catch-up: ${JSON.stringify(backlog.map((e) => [e.type, e.data.waveId]))}`,
    );
    assert.ok(
      backlog.every((e) => e.data.waveId === undefined),
      'none of its follows',
    );
    assert.ok(late.received.every((e) => e.type !== 'channel.follow' || !e.data.waveId));

    // Every follow is stored and listed; the wave entry too, in its final state.
    await waitUntil(
      async () =>
        Number(
          (await stack.knex('events').where({ broadcaster_id: streamer.id }).count('* as n'))[0]!.n,
        ) === 301,
      20_000,
      '300 follows and the wave stored',
    );
    await waitUntil(
      async () =>
        (
          await stack
            .knex('events')
            .where({ type: FOLLOW_WAVE_TYPE })
            .first<{ data: { count: number } }>('data')
        ).data.count === 280,
      10_000,
      'the stored wave in its final state',
    );
    const listed = await listAll(stack.webUrl, streamer.id);
    assert.equal(new Set(listed.map((e) => e.id)).size, listed.length, 'each listed once');
    const follows = listed.filter((e) => e.type === 'channel.follow');
    assert.equal(follows.length, 300);
    assert.equal(follows.filter((e) => e.data.waveId === waves(listed)[0]!.id).length, 280);
    // Newest first: the wave's entry, right below it the 280 follows it took in, then the 20
    // rows. A row is appended by the script that decides it, so none can come above the wave.
    assert.equal(listed[0]!.type, FOLLOW_WAVE_TYPE, 'no row above the wave');
    const taken = listed.slice(1, 281);
    assert.ok(taken.every((e) => e.data.waveId === listed[0]!.id));
    const rows = listed.slice(281);
    assert.equal(rows.length, 20);
    assert.ok(rows.every((e) => e.type === 'channel.follow' && e.data.waveId === undefined));
  });
});

const waves = (events: StreamEvent[]) => events.filter((e) => e.type === FOLLOW_WAVE_TYPE);
