import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createTestDatabase, dropEventPartitions, type TestDatabase } from '../helpers/database.js';
import { createEventStore } from '../../src/shared/db/event-store.js';
import {
  DEFAULT_PARTITION,
  ensurePartition,
  listPartitionRanges,
} from '../../src/shared/db/partitions.js';
import { maintainEventPartitions } from '../../src/shared/db/partition-maintenance.js';
import {
  addUnits,
  parsePartitionName,
  partitionNameFor,
  unitStart,
} from '../../src/shared/db/partition-interval.js';
import { registerDefaultPartitionRows } from '../../src/shared/db/default-partition-metric.js';
import type { StreamEvent } from '../../src/shared/events/event.js';

const NOW = new Date('2031-06-15T12:34:56.789Z'); // a Sunday

const follow = (id: string, occurredAt: Date): StreamEvent => ({
  id,
  type: 'channel.follow',
  broadcasterId: '4242',
  broadcasterLogin: 'streamer',
  broadcasterName: 'Streamer',
  occurredAt: occurredAt.toISOString(),
  actor: { id: '1', login: 'fan', name: 'Fan' },
  summary: 'Fan followed',
  data: {},
});

/** Attached partitions with their bounds, ordered by start. */
async function bounds(db: TestDatabase) {
  return (await listPartitionRanges(db.knex))
    .map((r) => ({ name: r.name, from: r.from!.toISOString(), to: r.to!.toISOString() }))
    .sort((a, b) => a.from.localeCompare(b.from));
}

/** Each partition starts where the one before it ends: no gap, no overlap. */
function assertContiguous(list: Array<{ name: string; from: string; to: string }>) {
  for (let i = 1; i < list.length; i++) {
    assert.equal(list[i]!.from, list[i - 1]!.to, `${list[i - 1]!.name} -> ${list[i]!.name}`);
  }
}

async function defaultRows(db: TestDatabase): Promise<string[]> {
  return db.knex(DEFAULT_PARTITION).orderBy('id').pluck<string[]>('id');
}

describe('event partitions by month, week or day (real PostgreSQL)', () => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase();
    await dropEventPartitions(db.knex);
  });
  afterEach(async () => {
    await db?.drop();
  });

  it('names each interval so that its name says which, and reads every form back', () => {
    const monday = new Date('2031-06-09T00:00:00Z');
    assert.equal(unitStart(NOW, 'week').toISOString(), monday.toISOString());
    assert.equal(unitStart(NOW, 'day').toISOString(), '2031-06-15T00:00:00.000Z');
    assert.equal(addUnits(NOW, 'month', -7).toISOString(), '2030-11-01T00:00:00.000Z');
    assert.equal(addUnits(NOW, 'week', 1).toISOString(), '2031-06-16T00:00:00.000Z');
    const names = {
      month: partitionNameFor(unitStart(NOW, 'month'), 'month'),
      week: partitionNameFor(monday, 'week'),
      day: partitionNameFor(unitStart(NOW, 'day'), 'day'),
      partialMonth: partitionNameFor(new Date('2031-06-18T00:00:00Z'), 'month'),
    };
    assert.deepEqual(names, {
      month: 'events_y2031m06',
      week: 'events_y2031m06d09_w',
      day: 'events_y2031m06d15_d',
      partialMonth: 'events_y2031m06d18_m',
    });
    assert.deepEqual(parsePartitionName(names.week), { interval: 'week', from: monday });
    assert.equal(parsePartitionName(names.partialMonth)?.interval, 'month');
    assert.equal(parsePartitionName('events_y2031m02d30_d'), null);
    assert.equal(parsePartitionName('events_default'), null);
  });

  for (const [interval, ahead, expected] of [
    ['month', 2, ['events_y2031m06', 'events_y2031m07', 'events_y2031m08']],
    ['week', 2, ['events_y2031m06d09_w', 'events_y2031m06d16_w', 'events_y2031m06d23_w']],
    [
      'day',
      3,
      [
        'events_y2031m06d15_d',
        'events_y2031m06d16_d',
        'events_y2031m06d17_d',
        'events_y2031m06d18_d',
      ],
    ],
  ] as const) {
    it(`creates the current ${interval} and ${ahead} ahead, once, and drops by ${interval}`, async () => {
      const first = await maintainEventPartitions(db.knex, {
        now: NOW,
        interval,
        ahead,
        retention: 2,
      });
      assert.deepEqual(first.created, expected);
      const list = await bounds(db);
      assert.deepEqual(
        list.map((p) => p.name),
        expected,
      );
      assertContiguous(list);
      assert.equal(list[0]!.from, unitStart(NOW, interval).toISOString());
      const again = await maintainEventPartitions(db.knex, {
        now: NOW,
        interval,
        ahead,
        retention: 2,
      });
      assert.deepEqual(again.created, []);
      // Three intervals on, with 2 kept before the current one: the first goes.
      const later = await maintainEventPartitions(db.knex, {
        now: addUnits(NOW, interval, 3),
        interval,
        ahead,
        retention: 2,
      });
      assert.deepEqual(later.dropped, [expected[0]]);
    });
  }

  it('changes interval with no gap and no overlap, and drops every form past retention', async () => {
    await maintainEventPartitions(db.knex, { now: NOW, interval: 'month', ahead: 1, retention: 6 });
    // Monthly up to 2031-08-01; days from there on, then weeks after the days.
    const toDays = await maintainEventPartitions(db.knex, {
      now: new Date('2031-07-30T10:00:00Z'),
      interval: 'day',
      ahead: 4,
      retention: 60,
    });
    assert.deepEqual(toDays.created, [
      'events_y2031m08d01_d',
      'events_y2031m08d02_d',
      'events_y2031m08d03_d',
    ]);
    const toWeeks = await maintainEventPartitions(db.knex, {
      now: new Date('2031-08-02T10:00:00Z'),
      interval: 'week',
      ahead: 2,
      retention: 8,
    });
    // 2031-08-04 is a Monday: the first week starts where the days end, and is whole.
    assert.deepEqual(toWeeks.created, ['events_y2031m08d04_w', 'events_y2031m08d11_w']);
    const back = await maintainEventPartitions(db.knex, {
      now: new Date('2031-08-12T10:00:00Z'),
      interval: 'month',
      ahead: 1,
      retention: 6,
    });
    assert.deepEqual(back.created, ['events_y2031m08d18_m', 'events_y2031m09']);
    const list = await bounds(db);
    assertContiguous(list);
    assert.equal(list[0]!.from, '2031-06-01T00:00:00.000Z');
    assert.equal(list.at(-1)!.to, '2031-10-01T00:00:00.000Z');

    // Retention by weeks, long after: every form that ended before the cutoff goes.
    const late = await maintainEventPartitions(db.knex, {
      now: new Date('2031-09-20T00:00:00Z'),
      interval: 'week',
      ahead: 0,
      retention: 4, // cutoff: Monday 2031-08-18
    });
    assert.deepEqual(late.dropped.sort(), [
      'events_y2031m06',
      'events_y2031m07',
      'events_y2031m08d01_d',
      'events_y2031m08d02_d',
      'events_y2031m08d03_d',
      'events_y2031m08d04_w',
      'events_y2031m08d11_w',
    ]);
  });

  it('catches what no partition holds in the default one, counts it, and moves it out', async () => {
    const store = createEventStore(db.knex);
    await maintainEventPartitions(db.knex, { now: NOW, interval: 'day', ahead: 1, retention: 30 });
    const registry = new Registry();
    registerDefaultPartitionRows(registry, db.knex);
    const gauge = async () =>
      (await registry.getSingleMetric('streamfeed_events_default_partition_rows')!.get()).values[0]
        ?.value;
    assert.equal(await gauge(), 0);

    const stray = [
      follow('late-1', new Date('2031-06-20T01:00:00Z')), // days ahead of the partitions
      follow('late-2', new Date('2031-06-20T23:00:00Z')),
      follow('old-1', new Date('2019-11-16T10:11:12.634Z')), // long past retention
    ];
    assert.equal(await store.insert(stray.map((event) => ({ event, messageId: null }))), 3);
    assert.deepEqual(await defaultRows(db), ['late-1', 'late-2', 'old-1']);
    assert.equal(await gauge(), 3);
    // Readable as ever while there.
    assert.deepEqual(
      (await store.findByIds(['late-1'])).map((e) => e.id),
      ['late-1'],
    );

    // Its partition made ahead of time: the rows move into it, in one transaction.
    const name = await ensurePartition(db.knex, new Date('2031-06-20T12:00:00Z'), 'day');
    assert.equal(name, 'events_y2031m06d20_d');
    assert.deepEqual(await db.knex(name).orderBy('id').pluck('id'), ['late-1', 'late-2']);
    assert.deepEqual(await defaultRows(db), ['old-1']);
    assert.equal(await gauge(), 1);

    // Maintenance makes partitions for strays within retention; older ones stay and are counted.
    await store.insert([
      { event: follow('late-3', new Date('2031-06-25T05:00:00Z')), messageId: null },
    ]);
    const run = await maintainEventPartitions(db.knex, {
      now: NOW,
      interval: 'day',
      ahead: 1,
      retention: 30,
    });
    assert.deepEqual(run.created, ['events_y2031m06d25_d']);
    assert.deepEqual(await defaultRows(db), ['old-1']);
    const ids = await db.knex('events').orderBy('id').pluck('id');
    assert.deepEqual(ids, ['late-1', 'late-2', 'late-3', 'old-1']);
  });

  it('changes interval with events flowing: nothing lost, nothing doubled', async function () {
    this.timeout(60_000);
    const store = createEventStore(db.knex);
    const start = new Date('2031-06-28T00:00:00Z');
    await maintainEventPartitions(db.knex, {
      now: start,
      interval: 'month',
      ahead: 0,
      retention: 6,
    });
    // Events spread over 2031-06-28 .. 2031-07-08: the monthly partition ends on 07-01, so
    // some land in the default partition until the daily ones are made, and move then.
    const span = 10 * 86_400_000;
    const total = 3000;
    const events = Array.from({ length: total }, (_, i) =>
      follow(`flow-${i}`, new Date(start.getTime() + Math.floor((i * span) / total))),
    );
    // The last 300 (07-07 on) come early, before any partition of theirs: the default one
    // holds them until maintenance makes their days, while the rest flow in and they come again.
    const early = events.slice(-300).map((event) => ({ event, messageId: `m-${event.id}` }));
    assert.equal(await store.insert(early), 300);
    assert.equal((await defaultRows(db)).length, 300);
    let retried = 0;
    let stop = false;
    // A persist job is retried when its insert races a partition being made: so is this.
    const insert = async (batch: typeof early) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await store.insert(batch);
        } catch (error) {
          if (attempt > 5) throw error;
          retried++;
        }
      }
    };
    const writer = (async () => {
      try {
        for (let i = 0, j = 0; i < events.length - 300; i += 25, j += 3) {
          await insert(
            events.slice(i, i + 25).map((event) => ({ event, messageId: `m-${event.id}` })),
          );
          // Redeliveries, of a batch just stored and of the early ones: no event may double.
          await insert(
            events.slice(i, i + 5).map((event) => ({ event, messageId: `m-${event.id}` })),
          );
          await insert(early.slice(j % 300, (j % 300) + 3));
        }
      } finally {
        stop = true;
      }
    })();
    let runs = 0;
    const maintainer = (async () => {
      while (!stop) {
        const now = new Date(start.getTime() + ((runs * 86_400_000) % span));
        await maintainEventPartitions(db.knex, { now, interval: 'day', ahead: 2, retention: 60 });
        runs++;
      }
    })();
    await Promise.all([writer, maintainer]);
    await maintainEventPartitions(db.knex, {
      now: new Date('2031-07-08T00:00:00Z'),
      interval: 'day',
      ahead: 2,
      retention: 60,
    });
    assert.ok(runs >= 2, `maintenance ran ${runs} times while events flowed`);

    const counts = await db
      .knex('events')
      .select('id')
      .count<Array<{ id: string; count: string }>>('*')
      .groupBy('id');
    assert.equal(counts.length, total, 'nothing lost');
    assert.ok(
      counts.every((c) => Number(c.count) === 1),
      'nothing doubled',
    );
    assert.deepEqual(await defaultRows(db), [], `all moved into partitions (${retried} retries)`);
    const list = await bounds(db);
    assertContiguous(list);
    assert.equal(list[0]!.name, 'events_y2031m06');
    assert.ok(
      list.slice(1).every((p) => p.name.endsWith('_d')),
      list.map((p) => p.name).join(),
    );
  });
});
