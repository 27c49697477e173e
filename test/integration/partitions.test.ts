import assert from 'node:assert/strict';
import { createTestDatabase, dropEventPartitions, type TestDatabase } from '../helpers/database.js';
import {
  ensurePartition,
  listEventPartitions,
  monthStart,
  partitionName,
} from '../../src/shared/db/partitions.js';
import { maintainEventPartitions } from '../../src/shared/db/partition-maintenance.js';

const NOW = new Date('2031-06-15T12:34:56.789Z');

describe('event partitions (real PostgreSQL)', () => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase();
    // Start from no partitions, whatever month the migration ran in.
    await dropEventPartitions(db.knex);
  });
  afterEach(async () => {
    await db?.drop(); // undefined when PostgreSQL could not be reached
  });

  it('names months in UTC', () => {
    assert.equal(partitionName(new Date('2026-11-30T23:59:59.999-05:00')), 'events_y2026m12');
    assert.equal(partitionName(new Date('2019-01-01T00:00:00Z')), 'events_y2019m01');
    assert.equal(monthStart(NOW).toISOString(), '2031-06-01T00:00:00.000Z');
  });

  it('creates the current month and the months ahead, once', async () => {
    const first = await maintainEventPartitions(db.knex, { now: NOW, retentionMonths: 6 });
    const ahead = ['events_y2031m06', 'events_y2031m07', 'events_y2031m08', 'events_y2031m09'];
    assert.deepEqual(first, { created: ahead, dropped: [], archived: [], failed: [] });
    assert.deepEqual(await listEventPartitions(db.knex), ahead);

    const again = await maintainEventPartitions(db.knex, { now: NOW, retentionMonths: 6 });
    assert.deepEqual(again, { created: [], dropped: [], archived: [], failed: [] });
    assert.deepEqual(await listEventPartitions(db.knex), ahead);

    const { rows } = await db.knex.raw<{ rows: Array<{ bound: string }> }>(
      `SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_class c WHERE c.relname = ?`,
      ['events_y2031m06'],
    );
    assert.match(
      rows[0]!.bound,
      /FROM \('2031-06-01 00:00:00\+00'\) TO \('2031-07-01 00:00:00\+00'\)/,
    );
  });

  it('drops only our partitions that lie wholly past retention', async () => {
    for (const month of ['2030-10', '2030-11', '2030-12', '2031-01', '2031-02']) {
      await ensurePartition(db.knex, new Date(`${month}-10T00:00:00Z`));
    }
    // Someone's hand-made partition: not our naming, so never ours to drop.
    await db.knex.raw(
      `CREATE TABLE events_archive_2000 PARTITION OF events
         FOR VALUES FROM ('2000-01-01T00:00:00Z') TO ('2001-01-01T00:00:00Z')`,
    );
    await db.knex('events').insert({
      id: 'old',
      type: 'stream.online',
      broadcaster_id: '1',
      broadcaster_login: 'a',
      broadcaster_name: 'A',
      occurred_at: '2030-11-05T00:00:00Z',
      summary: 'A went live',
      data: '{}',
    });

    // Keeps the current month plus 6 before it: 2030-12 .. 2031-06.
    const result = await maintainEventPartitions(db.knex, { now: NOW, retentionMonths: 6 });
    assert.deepEqual(result.dropped, ['events_y2030m10', 'events_y2030m11']);
    assert.deepEqual(await listEventPartitions(db.knex), [
      'events_archive_2000',
      'events_y2030m12',
      'events_y2031m01',
      'events_y2031m02',
      'events_y2031m06',
      'events_y2031m07',
      'events_y2031m08',
      'events_y2031m09',
    ]);
    assert.equal((await db.knex('events').where({ id: 'old' })).length, 0);

    const shorter = await maintainEventPartitions(db.knex, { now: NOW, retentionMonths: 4 });
    assert.deepEqual(shorter.dropped, ['events_y2030m12', 'events_y2031m01']);
    assert.deepEqual(shorter.created, []);
  });

  it('lets concurrent callers create the same month, all succeeding', async () => {
    for (const month of ['2031-01', '2031-02', '2031-03', '2031-04', '2031-05']) {
      const date = new Date(`${month}-15T00:00:00Z`);
      const names = await Promise.all(
        Array.from({ length: 6 }, () => ensurePartition(db.knex, date)),
      );
      assert.deepEqual(new Set(names), new Set([partitionName(date)]));
    }
    assert.equal((await listEventPartitions(db.knex)).length, 5);
  });

  it('refuses a nonsense month and a nonsense retention', async () => {
    await assert.rejects(ensurePartition(db.knex, new Date('invalid')), RangeError);
    await assert.rejects(ensurePartition(db.knex, new Date('0099-01-01T00:00:00Z')), RangeError);
    await assert.rejects(
      maintainEventPartitions(db.knex, { now: NOW, retentionMonths: 0 }),
      RangeError,
    );
  });
});
