import assert from 'node:assert/strict';
import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import type { StreamEvent } from '../../src/shared/events/event.js';
import { normalizeEvent } from '../../src/shared/events/normalize.js';
import { createEventStore } from '../../src/shared/db/event-store.js';
import { listEventPartitions } from '../../src/shared/db/partitions.js';
import type { PersistEventsJob } from '../../src/shared/queues.js';
import { createPersistEventsProcessor } from '../../src/workers/processors/persist-event.processor.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { waitUntil } from '../helpers/simulator.js';
import { EVENTSUB_SECRET, QUEUES, startStack, type Stack } from '../helpers/stack.js';
import { deliver, followPayload, notificationBody } from '../helpers/twitch.js';

const MESSAGE_TIME = new Date().toISOString();
const jobOf = (data: PersistEventsJob) => ({ data }) as Job<PersistEventsJob>;

/** A follow as the processor normalises it, followed at `followedAt` (any string). */
function follow(n: number, followedAt: string): StreamEvent {
  const payload = followPayload('8901', String(n));
  const event = { ...payload.event!, followed_at: followedAt };
  return { id: `ev_time_${n}`, ...normalizeEvent(payload.subscription, event, MESSAGE_TIME) };
}

describe('event times PostgreSQL cannot partition by (real PostgreSQL, persist handler)', function () {
  this.timeout(30_000);
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db?.drop();
  });

  it('stores every RFC 3339 year once, keeps its time, and makes no junk partition', async () => {
    const persist = createPersistEventsProcessor({ store: createEventStore(db.knex) });
    const store = createEventStore(db.knex);
    const times = [
      '0001-01-01T00:00:00Z', // Date.UTC made this 1901
      '0099-12-31T23:59:59Z',
      '0000-01-01T00:00:00Z',
      '0000-01-01T00:00:00+01:00', // the year -1 in UTC
      '9999-12-31T23:59:59.999Z', // December 9999's partition has no upper bound to name
      '9999-12-31T23:30:00-01:00', // the year 10000 in UTC
      '0999-12-31T23:59:59.999Z',
      '1000-01-01T00:00:00Z',
      '9999-11-30T23:59:59.999Z',
    ];
    const events = times.map((t, i) => follow(i + 1, t));
    assert.equal(events[0]!.occurredAt, '0001-01-01T00:00:00.000Z', 'the event keeps its time');
    assert.equal(events[5]!.occurredAt, '+010000-01-01T00:30:00.000Z');
    const before = new Set(await listEventPartitions(db.knex));
    const rows = events.map((event, i) => ({ event, messageId: `m${i}`, seq: i + 1 }));

    assert.deepEqual(await persist(jobOf({ rows })), { inserted: times.length });
    // A retry (the next attempt, or the callback re-run after a crash) adds nothing.
    assert.deepEqual(await persist(jobOf({ rows })), { inserted: 0 });
    assert.deepEqual(await persist(jobOf({ rows: rows.slice(0, 1) })), { inserted: 0 });
    const counts = await db
      .knex('events')
      .select('id')
      .count<{ id: string; count: string }[]>('*')
      .groupBy('id');
    assert.equal(counts.length, times.length);
    assert.ok(
      counts.every((c) => Number(c.count) === 1),
      'each stored once',
    );

    const stored = new Map((await store.findByIds(events.map((e) => e.id))).map((e) => [e.id, e]));
    for (const event of events) assert.deepEqual(stored.get(event.id), event, event.occurredAt);
    const listed = await store.listBefore('8901', 100);
    assert.equal(listed.length, times.length);

    const made = (await listEventPartitions(db.knex)).filter((name) => !before.has(name));
    assert.deepEqual(made, []);
    // The two with partitionable times outside every partition wait in the default one (which
    // the next partition made for their month empties: partition-intervals.test.ts).
    assert.deepEqual(
      (await db.knex('events_default').pluck<string[]>('id')).sort(),
      [events[7]!.id, events[8]!.id].sort(),
    );
    // Those out of the partitions' range are kept under the month they were stored in.
    const keys = await db.knex('events').whereNotNull('event_time').pluck<string[]>('id');
    assert.deepEqual(
      keys.sort(),
      events
        .slice(0, 7)
        .map((e) => e.id)
        .sort(),
    );
  });

  it('fails a job for good, at once, when all it has left cannot be stored', async () => {
    const persist = createPersistEventsProcessor({ store: createEventStore(db.knex) });
    const good = { event: follow(1, MESSAGE_TIME), messageId: 'm1', seq: 1 };
    const broken = {
      event: { ...follow(2, MESSAGE_TIME), occurredAt: 'not a time' },
      messageId: 'm2',
      seq: 2,
    };
    await assert.rejects(persist(jobOf({ rows: [good, broken] })), (error: Error) => {
      assert.ok(error instanceof UnrecoverableError, error.message);
      assert.match(error.message, /1 of 2 events not stored \(1 stored alone\): ev_time_2/);
      return true;
    });
    assert.deepEqual(await db.knex('events').pluck('id'), ['ev_time_1']);
    await assert.rejects(persist(jobOf({ rows: [broken] })), UnrecoverableError);
  });
});

describe('event times PostgreSQL cannot partition by, through the real processes', function () {
  this.timeout(60_000);
  let stack: Stack;

  before(async () => {
    stack = await startStack({ without: ['realtime', 'emitter'] });
  });
  after(async () => {
    await stack?.stop();
  });

  it('stores a follow of the year 0001, 0000 or 9999-12 at once and serves it with its time', async () => {
    const times = ['0001-01-01T00:00:00Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z'];
    for (const [i, followedAt] of times.entries()) {
      const payload = followPayload('8902', String(i + 1));
      const result = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
        body: notificationBody(payload, (event) => (event.followed_at = followedAt)),
        subscriptionType: 'channel.follow',
        subscriptionVersion: '2',
      });
      assert.equal(result.status, 202, result.body);
    }
    await waitUntil(
      async () => (await stack.knex('events').where({ broadcaster_id: '8902' })).length === 3,
      10_000,
      'all three stored',
    );
    const persist = stack.queue(QUEUES.persist);
    assert.equal(await persist.getFailedCount(), 0);
    assert.equal(await persist.getDelayedCount(), 0, 'no persist job waits for a retry');
    // Served from PostgreSQL (limit > the cache's 50), each with the time Twitch gave it.
    const response = await fetch(`${stack.webUrl}/api/streamers/8902/events?limit=100`);
    const { events } = (await response.json()) as { events: StreamEvent[] };
    // Sorted: the processor handles the three at once, so their arrival order is its own.
    assert.deepEqual(events.map((e) => e.occurredAt).sort(), [
      '0000-01-01T00:00:00.000Z',
      '0001-01-01T00:00:00.000Z',
      '9999-12-31T23:59:59.000Z',
    ]);
    const partitions = await listEventPartitions(stack.knex);
    assert.ok(!partitions.some((name) => /^events_y(19|00)/.test(name)), partitions.join());
  });
});
