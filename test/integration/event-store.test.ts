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
    assert.deepEqual(ids((await store.listBefore('1337', 10)).map((e) => e.event)), [
      'c',
      'b',
      'a',
    ]);
  });

  it('stores events from months without a partition (2019 doc examples) in the default one', async () => {
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
    assert.deepEqual(await listEventPartitions(db.knex), before);
    assert.deepEqual((await db.knex('events_default').pluck<string[]>('id')).sort(), [
      'doc-example',
      'skewed',
    ]);
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

  it('lists in arrival order, newest first, whatever the event times, and pages to an end', async () => {
    // Feed positions disagree with the event times; q3a and q3b share a position, as after a
    // feed numbered again; l1-l3 were stored before positions existed, in that order.
    const at = (minute: number) => new Date(Date.UTC(2026, 5, 1, 0, minute)).toISOString();
    const positioned: Array<[string, number, string]> = [
      ['q1', 1, at(59)],
      ['q2', 2, '2025-12-31T23:59:59.999Z'],
      ['q3a', 3, at(30)],
      ['q3b', 3, at(10)],
      ['q4', 4, at(40)],
      ['q5', 5, '2019-11-16T10:11:12.634Z'],
    ];
    for (const [id, time] of [
      ['l1', at(50)],
      ['l2', at(5)],
      ['l3', at(55)],
    ] as const) {
      await store.insert([{ event: event(id, time), messageId: null }]);
    }
    await store.insert(
      [...positioned]
        .reverse()
        .map(([id, seq, time]) => ({ event: event(id, time), messageId: null, seq })),
    );
    await store.insert([{ event: event('x1', at(1), '42'), messageId: null, seq: 9 }]);

    const all = ['q5', 'q4', 'q3b', 'q3a', 'q2', 'q1', 'l3', 'l2', 'l1'];
    const list = async (limit: number, before?: string) => {
      const anchor = before === undefined ? undefined : await store.positionOf('1337', before);
      return store.listBefore('1337', limit, anchor ?? { id: before!, seq: null });
    };
    assert.deepEqual(
      (await store.listBefore('1337', 100)).map((e) => `${e.seq}:${e.event.id}`),
      ['5:q5', '4:q4', '3:q3b', '3:q3a', '2:q2', '1:q1', 'null:l3', 'null:l2', 'null:l1'],
    );
    for (const limit of [1, 2, 4, 100]) {
      const seen: string[] = [];
      let page = await store.listBefore('1337', limit);
      for (let pages = 0; page.length > 0; pages++) {
        assert.ok(pages < 20, `paging by ${limit} ends`);
        assert.ok(page.length <= limit);
        seen.push(...page.map((e) => e.event.id));
        page = await list(limit, seen.at(-1));
      }
      assert.deepEqual(seen, all, `every event once, paging by ${limit}`);
    }
    const [q5] = await store.listBefore('1337', 1);
    assert.deepEqual(q5?.event, event('q5', '2019-11-16T10:11:12.634Z'));

    assert.deepEqual(await store.positionOf('1337', 'q4'), { id: 'q4', seq: 4 });
    assert.deepEqual(await store.positionOf('1337', 'l2'), { id: 'l2', seq: null });
    assert.equal(await store.positionOf('1337', 'nope'), null);
    // Another broadcaster's event id is no anchor here.
    assert.equal(await store.positionOf('1337', 'x1'), null);
    assert.deepEqual(await store.listBefore('1337', 10, { id: 'nope', seq: null }), []);
    assert.deepEqual(ids((await store.listBefore('42', 10)).map((e) => e.event)), ['x1']);
    assert.deepEqual(await store.listBefore('nobody', 10), []);
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
