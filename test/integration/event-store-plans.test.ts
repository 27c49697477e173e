import assert from 'node:assert/strict';
import type { Knex } from '../../src/shared/connections/database.js';
import { createEventStore, type EventStore } from '../../src/shared/db/event-store.js';
import { partitionName } from '../../src/shared/db/partitions.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { createLoadSources, loadEvents } from '../helpers/event-load.js';
import {
  captureQueries,
  explainJson,
  partitionIndex,
  readsOf,
  type CapturedQuery,
} from '../helpers/query-plans.js';
import { createEventSource } from '../helpers/stored-events.js';

const ROWS = 120_000;
const STREAMERS = 2000;
const INDEX_SCANS = ['Index Scan', 'Index Only Scan'];

interface Anchor {
  id: string;
  seq: number | null;
}

/**
 * Each history read of GET /api/streamers/:id/events, as the store sends it, is planned as an
 * index seek on the partition that holds the rows: no Seq Scan, no Bitmap Heap Scan, no Sort,
 * on a table large enough (and analysed) for the planner's choice to mean something.
 */
describe('event store history reads are index seeks (EXPLAIN, real PostgreSQL)', function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let store: EventStore;
  const partition = partitionName(new Date());
  const streamer: Record<'hot' | 'typical' | 'legacy', string> = {
    hot: '',
    typical: '',
    legacy: '',
  };

  const idOfRank = async (knex: Knex, rank: number) =>
    (await knex('load_streamers').where({ rank }).first<{ id: string }>('id')).id;

  /**
   * A streamer with few events, but a few pages of them: the one with the fewest among those that
   * have at least 24. Ranks are drawn at random, so a fixed rank (STREAMERS / 2 holds about 16)
   * now and then has fewer than a page and its anchor.
   */
  const typicalStreamer = async (knex: Knex) => {
    const { rows } = await knex.raw<{ rows: Array<{ id: string }> }>(
      `SELECT broadcaster_id AS id FROM events GROUP BY broadcaster_id
        HAVING count(*) >= 24 ORDER BY count(*), broadcaster_id LIMIT 1`,
    );
    if (!rows[0]) throw new Error('no streamer has 24 events');
    return rows[0].id;
  };

  before(async () => {
    db = await createTestDatabase();
    store = createEventStore(db.knex);
    const source = createEventSource({ streamers: STREAMERS, seed: 3 });
    const seed = source.take(400);
    for (let i = 0; i < seed.length; i += 100) await store.insert(seed.slice(i, i + 100));
    await createLoadSources(db.knex, { from: partition, streamers: source.streamers });
    const now = new Date();
    const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    await loadEvents(db.knex, { into: 'events', first: 1, count: ROWS, from, to: now });
    streamer.hot = await idOfRank(db.knex, 1);
    streamer.typical = await typicalStreamer(db.knex);
    // Rank 3's events were all stored before feed positions existed.
    streamer.legacy = await idOfRank(db.knex, 3);
    await db.knex('events').where('broadcaster_id', streamer.legacy).update({ seq: null });
    await db.knex.raw(`VACUUM ANALYZE ${partition}`);
  });
  after(async () => {
    await db?.drop();
  });

  /** An event halfway down a streamer's feed, with at least a page of older ones. */
  async function anchorOf(broadcasterId: string): Promise<Anchor> {
    const count = await db.knex('events').where('broadcaster_id', broadcasterId).count('* as n');
    const n = Number((count[0] as { n: string }).n);
    assert.ok(n >= 12, `streamer ${broadcasterId} has ${n} events, too few for a page`);
    const row = await db
      .knex('events')
      .where('broadcaster_id', broadcasterId)
      .orderBy([
        { column: 'seq', order: 'desc' },
        { column: 'received_at', order: 'desc' },
      ])
      .offset(Math.min(Math.floor(n / 2), n - 11))
      .first<{ id: string; seq: string | null }>('id', 'seq');
    return { id: row.id, seq: row.seq === null ? null : Number(row.seq) };
  }

  /**
   * Runs `read` through the store, then EXPLAINs each statement it sent and checks that the
   * partition is read only by index scans on the indexes expected, statement by statement.
   */
  async function assertSeeks(read: () => Promise<unknown>, expected: string[][]) {
    const queries: CapturedQuery[] = await captureQueries(db.knex, read);
    assert.equal(queries.length, expected.length, queries.map((q) => q.sql).join('\n'));
    for (const [i, query] of queries.entries()) {
      const { plan } = await explainJson(db.knex, query);
      const { scans, sorts } = readsOf(plan, partition);
      const indexes = await Promise.all(
        expected[i]!.map((parent) => partitionIndex(db.knex, parent, partition)),
      );
      const shown = `${query.sql}\n${JSON.stringify(plan, null, 1)}`;
      assert.ok(scans.length > 0, `statement ${i + 1} does not read ${partition}: ${shown}`);
      assert.deepEqual(sorts, [], `statement ${i + 1} sorts: ${shown}`);
      for (const scan of scans) {
        assert.ok(INDEX_SCANS.includes(scan.type), `statement ${i + 1}: ${scan.type}: ${shown}`);
        assert.ok(
          scan.index !== null && indexes.includes(scan.index),
          `statement ${i + 1} uses ${scan.index}, not ${indexes.join(' or ')}: ${shown}`,
        );
      }
    }
  }

  // An event by id: the key (id, occurred_at) in each partition, or, for a streamer with few
  // events, the range of theirs in any index that leads with broadcaster_id, which the planner
  // then finds as cheap. Each is a seek; a streamer with many events must get the key (checked
  // for "hot").
  const lookup = (who: 'hot' | 'typical') =>
    who === 'hot'
      ? ['events_pkey']
      : [
          'events_pkey',
          'events_broadcaster_seq_id_index',
          'events_broadcaster_type_seq_id_index',
          'events_broadcaster_occurred_at_id_index',
        ];

  for (const who of ['hot', 'typical'] as const) {
    it(`the 10 latest of a ${who} streamer: the (broadcaster_id, seq, id) index`, async () => {
      await assertSeeks(
        () => store.listBefore(streamer[who], 10),
        [['events_broadcaster_seq_id_index']],
      );
    });

    it(`a page before an event, ${who} streamer: the key, then (broadcaster_id, seq, id)`, async () => {
      const anchor = await anchorOf(streamer[who]);
      await assertSeeks(async () => {
        const found = await store.positionOf(streamer[who], anchor.id);
        assert.deepEqual(found, anchor);
        await store.listBefore(streamer[who], 10, found);
      }, [lookup(who), ['events_broadcaster_seq_id_index']]);
    });

    it(`a page after an event, ${who} streamer: the key, then (broadcaster_id, seq, id)`, async () => {
      const anchor = await anchorOf(streamer[who]);
      await assertSeeks(async () => {
        const seq = await store.seqOf(streamer[who], anchor.id);
        assert.equal(seq, anchor.seq);
        await store.listAfter(streamer[who], seq!, 11);
      }, [lookup(who), ['events_broadcaster_seq_id_index']]);
    });
  }

  it('the 10 latest of events stored without positions: the unpositioned index', async () => {
    await assertSeeks(
      () => store.listBefore(streamer.legacy, 10),
      [['events_broadcaster_seq_id_index'], ['events_broadcaster_unpositioned_index']],
    );
  });

  it('a page before an event stored without a position: the unpositioned index', async () => {
    const anchor = await anchorOf(streamer.legacy);
    assert.equal(anchor.seq, null);
    await assertSeeks(
      () => store.listBefore(streamer.legacy, 10, anchor),
      [['events_broadcaster_unpositioned_index', 'events_pkey']],
    );
  });
});
