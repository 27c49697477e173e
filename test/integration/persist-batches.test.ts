import assert from 'node:assert/strict';
import type { Job } from 'bullmq';
import type { Knex } from 'knex';
import { createDatabase } from '../../src/shared/connections/database.js';
import { createEventStore } from '../../src/shared/db/event-store.js';
import { createLogger } from '../../src/shared/logger.js';
import type { PersistEventJob, PersistEventsJob } from '../../src/shared/queues.js';
import { createPersistEventsProcessor } from '../../src/workers/processors/persist-event.processor.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { followEventIn, lockEventPartition } from '../helpers/locked-partition.js';

const LOCKED_MONTH = new Date(Date.UTC(2026, 5, 1));
const OPEN_MONTH = new Date(Date.UTC(2026, 6, 1));

const row = (month: Date, n: number): PersistEventJob => ({
  event: followEventIn(month, n * 1000, {
    eventId: `ev_${month.getUTCMonth()}_${n}`,
    broadcasterId: '8801',
    userId: String(880_000 + n),
  }),
  messageId: `msg-${month.getUTCMonth()}-${n}`,
});

/** Only `data` is read by the processor; a job as BullMQ hands it over. */
const jobOf = (data: PersistEventsJob | PersistEventJob) => ({ data }) as Job<typeof data>;

async function storedIds(knex: Knex): Promise<string[]> {
  const rows = await knex('events')
    .where('occurred_at', '>=', OPEN_MONTH.toISOString())
    .orderBy('id')
    .select<{ id: string }[]>('id');
  return rows.map((r) => r.id);
}

describe('storing events in batches (real PostgreSQL)', function () {
  this.timeout(30_000);
  let db: TestDatabase;
  let timed: Knex;

  beforeEach(async () => {
    db = await createTestDatabase();
    // As the processor connects: statements give up after a while instead of waiting forever.
    timed = createDatabase(db.url, { statementTimeoutMs: 500 });
  });
  afterEach(async () => {
    await timed?.destroy();
    await db?.drop();
  });

  it('stores a batch in one go, and a retry of it adds nothing', async () => {
    const persist = createPersistEventsProcessor({ store: createEventStore(timed) });
    const rows = [1, 2, 3].map((n) => row(OPEN_MONTH, n));
    assert.deepEqual(await persist(jobOf({ rows })), { inserted: 3 });
    assert.deepEqual(await persist(jobOf({ rows })), { inserted: 0 });
    assert.deepEqual(await persist(jobOf(row(OPEN_MONTH, 4))), { inserted: 1 });
    assert.equal((await storedIds(db.knex)).length, 4);
  });

  it('stores the rest of a batch when one event cannot be stored, and fails naming that one', async () => {
    const persist = createPersistEventsProcessor({ store: createEventStore(timed) });
    const stuck = row(LOCKED_MONTH, 9);
    const rows = [row(OPEN_MONTH, 1), stuck, row(OPEN_MONTH, 2), row(OPEN_MONTH, 3)];
    const lock = await lockEventPartition(db.knex, LOCKED_MONTH);
    try {
      await assert.rejects(persist(jobOf({ rows })), (error: Error) =>
        /^1 of 4 events not stored \(3 stored alone\): ev_5_9: .*statement timeout/.test(
          error.message,
        ),
      );
      assert.deepEqual(await storedIds(db.knex), ['ev_6_1', 'ev_6_2', 'ev_6_3']);
    } finally {
      await lock.rollback();
    }
    // The retry once the lock is gone stores the one that was left.
    assert.deepEqual(await persist(jobOf({ rows })), { inserted: 1 });
    const [count] = await db.knex('events').count<{ count: string }[]>('* as count');
    assert.equal(Number(count!.count), 4);
  });

  it('fails a batch at once, with the cause, when PostgreSQL cannot be reached', async () => {
    const away = createDatabase('postgres://postgres@127.0.0.1:9/none', {
      pool: { min: 0, max: 1 },
      log: createLogger('silent', 'test'),
    });
    try {
      const persist = createPersistEventsProcessor({ store: createEventStore(away) });
      const rows = [1, 2, 3].map((n) => row(OPEN_MONTH, n));
      await assert.rejects(persist(jobOf({ rows })), /ECONNREFUSED/);
      await assert.rejects(
        persist(jobOf({ rows })),
        (error: Error) => !/not stored/.test(error.message),
      );
    } finally {
      await away.destroy();
    }
  });
});
