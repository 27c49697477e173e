import assert from 'node:assert/strict';
import type { StreamEvent } from '../../src/shared/events/event.js';
import { createEventStore, type EventStore } from '../../src/shared/db/event-store.js';
import { listEventPartitions } from '../../src/shared/db/partitions.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const event = (id: string, occurredAt: string, broadcasterId = '1337'): StreamEvent => ({
  id,
  type: 'channel.follow',
  broadcasterId,
  broadcasterLogin: 'cool_user',
  broadcasterName: 'Cool_User',
  occurredAt,
  actor: { id: '1', login: 'fan', name: 'Fän 🎉' },
  summary: 'Fän 🎉 followed',
  data: { followedAt: occurredAt },
});

const ids = (events: StreamEvent[]) => events.map((e) => e.id);

describe('event store (real PostgreSQL)', () => {
  let db: TestDatabase;
  let store: EventStore;

  beforeEach(async () => {
    db = await createTestDatabase();
    store = createEventStore(db.knex);
  });
  afterEach(async () => {
    await db?.drop(); // undefined when PostgreSQL could not be reached
  });

  it('stores an event once, however often it is inserted', async () => {
    const e = event('a', new Date().toISOString());
    assert.equal(await store.insert([{ event: e, messageId: 'msg-1' }]), 1);
    assert.equal(await store.insert([{ event: e, messageId: 'msg-2' }]), 0);
    assert.equal(
      await store.insert([
        { event: e, messageId: 'msg-3' },
        { event: e, messageId: null },
      ]),
      0,
    );
    const rows = await db.knex('events').where({ id: 'a' }).select('message_id');
    assert.deepEqual(rows, [{ message_id: 'msg-1' }]);
    assert.deepEqual(await store.findByIds(['a']), [e]);
    assert.equal(await store.insert([]), 0);
  });

  it('counts only the new rows of a batch, duplicates within it included', async () => {
    const at = new Date().toISOString();
    await store.insert([{ event: event('a', at), messageId: null }]);
    const batch = ['a', 'b', 'c', 'b'].map((id) => ({ event: event(id, at), messageId: null }));
    assert.equal(await store.insert(batch), 2);
    assert.deepEqual(ids(await store.listByBroadcaster('1337', { limit: 10 })), ['c', 'b', 'a']);
  });

  it('stores events from months without a partition (2019 doc examples), creating it', async () => {
    const old = event('doc-example', '2019-11-16T10:11:12.634Z');
    const future = event('skewed', '2099-02-03T04:05:06.007Z');
    const before = await listEventPartitions(db.knex);
    assert.ok(!before.includes('events_y2019m11'));

    assert.equal(
      await store.insert([
        { event: old, messageId: 'm1' },
        { event: future, messageId: 'm2' },
      ]),
      2,
    );
    const after = await listEventPartitions(db.knex);
    assert.ok(after.includes('events_y2019m11') && after.includes('events_y2099m02'));
    assert.equal(await store.insert([{ event: old, messageId: 'm3' }]), 0);
    assert.deepEqual(await store.findByIds(['doc-example']), [old]);
  });

  it('keeps Twitch timestamps at millisecond precision', async () => {
    await store.insert([{ event: event('ns', '2019-11-16T10:11:12.634234626Z'), messageId: null }]);
    const [stored] = await store.findByIds(['ns']);
    assert.equal(stored!.occurredAt, '2019-11-16T10:11:12.634Z');
  });

  it('rejects an event whose occurredAt is not a date', async () => {
    await assert.rejects(
      store.insert([{ event: event('bad', 'yesterday'), messageId: null }]),
      RangeError,
    );
  });

  it('lists newest first, pages with before, and keeps broadcasters apart', async () => {
    const same = '2026-01-02T03:04:05.006Z';
    const events = [
      event('e1', '2025-12-31T23:59:59.999Z'),
      event('e2', '2026-01-01T00:00:00.000Z'),
      event('e3a', same),
      event('e3b', same),
      event('e4', '2026-02-01T00:00:00.000Z'),
      event('x1', '2026-01-15T00:00:00.000Z', '42'),
    ];
    // Inserted out of order, across three months.
    await store.insert([...events].reverse().map((e) => ({ event: e, messageId: null })));

    const all = await store.listByBroadcaster('1337', { limit: 100 });
    assert.deepEqual(ids(all), ['e4', 'e3b', 'e3a', 'e2', 'e1']);
    assert.deepEqual(all[0], events[4]);

    assert.deepEqual(ids(await store.listByBroadcaster('1337', { limit: 2 })), ['e4', 'e3b']);
    // Keyset on (occurredAt, id): e3a shares e3b's instant and still comes next.
    assert.deepEqual(ids(await store.listByBroadcaster('1337', { limit: 2, before: 'e3b' })), [
      'e3a',
      'e2',
    ]);
    assert.deepEqual(ids(await store.listByBroadcaster('1337', { limit: 2, before: 'e2' })), [
      'e1',
    ]);
    assert.deepEqual(await store.listByBroadcaster('1337', { limit: 2, before: 'e1' }), []);

    assert.deepEqual(await store.listByBroadcaster('1337', { limit: 10, before: 'nope' }), []);
    // Another broadcaster's event id is no anchor here.
    assert.deepEqual(await store.listByBroadcaster('1337', { limit: 10, before: 'x1' }), []);
    assert.deepEqual(ids(await store.listByBroadcaster('42', { limit: 10 })), ['x1']);
    assert.deepEqual(await store.listByBroadcaster('nobody', { limit: 10 }), []);
  });

  it('lists what came after a feed position, in that order, whatever the event times', async () => {
    // Event times out of arrival order, as Twitch's are (a stream.online carries its start time).
    const times = [30, 10, 20, 5].map((s) => new Date(Date.UTC(2026, 5, 1, 0, 0, s)).toISOString());
    await store.insert(
      times.map((at, i) => ({ event: event(`q${i + 1}`, at), messageId: null, seq: i + 1 })),
    );
    await store.insert([{ event: event('old', times[0]!), messageId: null }]);
    await store.insert([{ event: event('elsewhere', times[0]!, '42'), messageId: null, seq: 9 }]);
    const after = async (seq: number, limit: number) =>
      (await store.listAfter('1337', seq, limit)).map((e) => `${e.seq}:${e.event.id}`);
    assert.deepEqual(await after(1, 10), ['2:q2', '3:q3', '4:q4']);
    assert.deepEqual(await after(0, 2), ['1:q1', '2:q2']);
    assert.deepEqual(await after(4, 10), []);
    assert.equal(await store.seqOf('1337', 'q3'), 3);
    assert.equal(await store.seqOf('1337', 'old'), null, 'stored without a position');
    assert.equal(await store.seqOf('1337', 'elsewhere'), null, "another broadcaster's");
  });

  it('round-trips actor and data JSON, unicode included', async () => {
    const e: StreamEvent = {
      ...event('u', '2026-03-04T05:06:07.089Z'),
      actor: { id: '7', login: 'zoë', name: 'Zoë 🦊 日本語' },
      summary: 'Zoë 🦊 日本語 cheered 100 bits: "héllo\nwörld" 👋🏽',
      data: {
        message: {
          text: 'héllo\nwörld 👋🏽 \\ "quoted" \u2028',
          fragments: [{ type: 'text', text: '👋🏽' }],
        },
        bits: 100,
        anonymous: false,
        nothing: null,
        nested: { list: [1, 2.5, 'three', { four: [] }] },
      },
    };
    const anonymous: StreamEvent = {
      ...event('anon', '2026-03-04T05:06:07.090Z'),
      actor: null,
      data: {},
    };
    await store.insert([
      { event: e, messageId: null },
      { event: anonymous, messageId: null },
    ]);
    const found = await store.findByIds(['u', 'anon']);
    assert.deepEqual(
      found.find((f) => f.id === 'u'),
      e,
    );
    assert.deepEqual(
      found.find((f) => f.id === 'anon'),
      anonymous,
    );
  });
});
