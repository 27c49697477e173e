/**
 * `npm run bench -- --only store`: the event store measured (#15), in a database of its own.
 *
 * 1. Bytes per event: `--store-seed` events of the realistic mix (store-events.ts) stored
 *    through the store's own insert, then the partition filled to `--store-rows` server-side
 *    with copies of their contents (indexes in place, so they fill as inserts fill them), VACUUM
 *    ANALYZE, and the partition's heap, each index and TOAST; and the same events as an archive
 *    would hold them, gzip'd newline-delimited Event JSON.
 * 2. Insert CPU per event, multi-row insert against COPY, at `--store-batches` (store-inserts.ts).
 * 3. History reads with `--store-history` rows in the partition read (store-reads.ts): loaded
 *    into a table of its own, indexed, attached as the current month's partition.
 */
import { gzipSync } from 'node:zlib';
import { createDatabase, type Knex } from '../src/shared/connections/database.js';
import { createEventStore } from '../src/shared/db/event-store.js';
import { monthStart, partitionName } from '../src/shared/db/partitions.js';
import { createTestDatabase } from '../test/helpers/database.js';
import { createLoadSources, loadEvents } from '../test/helpers/event-load.js';
import { createEventSource, typeShares } from '../test/helpers/stored-events.js';
import { benchInserts } from './store-inserts.js';
import { benchPartitionCounts, benchReads } from './store-reads.js';

export interface StoreBenchOptions {
  seedEvents: number;
  rows: number;
  historyRows: number;
  streamers: number;
  batches: number[];
  /** Partitions added to see what each costs a read (day or week partitions would add them). */
  extraPartitions: number[];
  rounds: number;
  /** Events stored per writer, batch size and round (a third of it for batches of one). */
  stepEvents: number;
  readSamples: number;
  log: (line: string) => void;
}

const LOAD_CHUNK = 500_000;
const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10;

/** Sizes of a table and each of its indexes, with what each index is a partition of. */
async function sizesOf(knex: Knex, table: string) {
  const total = await knex.raw<{
    rows: Array<{ heap: string; indexes: string; toast: string; total: string; rows: string }>;
  }>(
    `SELECT pg_relation_size(c.oid) AS heap, pg_indexes_size(c.oid) AS indexes,
            coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0) AS toast,
            pg_total_relation_size(c.oid) AS total, (SELECT count(*) FROM ${table}) AS rows
       FROM pg_class c WHERE c.oid = to_regclass(?)`,
    [table],
  );
  const indexes = await knex.raw<{ rows: Array<{ name: string; parent: string; bytes: string }> }>(
    `SELECT x.indexrelid::regclass::text AS name,
            coalesce((SELECT i.inhparent::regclass::text FROM pg_inherits i
                       WHERE i.inhrelid = x.indexrelid), '') AS parent,
            pg_relation_size(x.indexrelid) AS bytes
       FROM pg_index x WHERE x.indrelid = to_regclass(?) ORDER BY 1`,
    [table],
  );
  const t = total.rows[0]!;
  const rows = Number(t.rows);
  const per = (bytes: string | number) => Math.round((Number(bytes) / rows) * 10) / 10;
  return {
    rows,
    bytes: {
      heap: Number(t.heap),
      indexes: Number(t.indexes),
      toast: Number(t.toast),
      total: Number(t.total),
    },
    perEvent: {
      heap: per(t.heap),
      indexes: per(t.indexes),
      toast: per(t.toast),
      total: per(t.total),
      byIndex: Object.fromEntries(
        indexes.rows.map((i) => [i.parent || i.name, per(i.bytes)]),
      ) as Record<string, number>,
    },
  };
}

/** What an archive of these events holds per event: NDJSON of the Event shape, and gzip'd. */
function archiveBytes(events: Array<{ event: unknown }>) {
  const ndjson = Buffer.from(events.map((e) => `${JSON.stringify(e.event)}\n`).join(''));
  const gzipped = gzipSync(ndjson).length;
  return {
    events: events.length,
    ndjsonPerEvent: Math.round((ndjson.length / events.length) * 10) / 10,
    gzipPerEvent: Math.round((gzipped / events.length) * 10) / 10,
  };
}

/** Each index of `events` again on `table`: the key as a constraint, the rest as indexes. */
async function indexLike(knex: Knex, table: string) {
  const constraints = await knex.raw<{ rows: Array<{ def: string }> }>(
    `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE conrelid = 'events'::regclass AND contype IN ('p', 'u')`,
  );
  for (const { def } of constraints.rows) await knex.raw(`ALTER TABLE ?? ADD ${def}`, [table]);
  const indexes = await knex.raw<{ rows: Array<{ def: string }> }>(
    `SELECT pg_get_indexdef(x.indexrelid) AS def FROM pg_index x
      WHERE x.indrelid = 'events'::regclass
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)`,
  );
  for (const { def } of indexes.rows) {
    await knex.raw(def.replace(/^CREATE INDEX \S+ ON ONLY \S+/, 'CREATE INDEX ON ??'), [table]);
  }
}

async function loadInChunks(
  knex: Knex,
  into: string,
  first: number,
  count: number,
  log: (l: string) => void,
) {
  const now = new Date();
  const started = performance.now();
  for (let done = 0; done < count; done += LOAD_CHUNK) {
    const n = Math.min(LOAD_CHUNK, count - done);
    await loadEvents(knex, { into, first: first + done, count: n, from: monthStart(now), to: now });
    if (count > LOAD_CHUNK) log(`  ${done + n} of ${count} rows (${seconds(started)} s)`);
  }
  return seconds(started);
}

export async function benchStore(options: StoreBenchOptions) {
  const { log } = options;
  const db = await createTestDatabase();
  // One connection: one backend does the inserts, so its CPU is theirs.
  const single = createDatabase(db.url, { pool: { min: 1, max: 1 } });
  try {
    const now = new Date();
    const partition = partitionName(now);
    const source = createEventSource({ streamers: options.streamers, seed: 15 });
    const seed = source.take(options.seedEvents);
    const store = createEventStore(single);
    for (let i = 0; i < seed.length; i += 100) await store.insert(seed.slice(i, i + 100));
    const archive = archiveBytes(seed);
    await createLoadSources(db.knex, { from: partition, streamers: source.streamers });

    log(`store: bytes per event, ${options.rows} rows in ${partition}`);
    const fill = await loadInChunks(db.knex, 'events', 1, options.rows - seed.length, log);
    await db.knex.raw(`VACUUM ANALYZE ${partition}`);
    const sizes = { ...(await sizesOf(db.knex, partition)), loadSeconds: fill };
    log(`  ${sizes.perEvent.total} bytes per event (${JSON.stringify(sizes.perEvent)})`);

    log(`store: insert CPU per event, batches ${options.batches.join(', ')}`);
    const inserts = await benchInserts({
      knex: single,
      batches: options.batches,
      rounds: options.rounds,
      eventsPerStep: (batch) =>
        Math.max(batch * 2, batch === 1 ? Math.ceil(options.stepEvents / 3) : options.stepEvents),
      take: source.take,
      log,
    });

    log(`store: history reads, ${options.historyRows} rows in the partition read`);
    await db.knex.raw('TRUNCATE events');
    await db.knex.raw('CREATE TABLE events_history (LIKE events INCLUDING DEFAULTS)');
    const loadSeconds = await loadInChunks(
      db.knex,
      'events_history',
      1e10,
      options.historyRows,
      log,
    );
    const indexStarted = performance.now();
    await db.knex.raw("SET maintenance_work_mem = '512MB'");
    await indexLike(db.knex, 'events_history');
    const bound = await db.knex.raw<{ rows: Array<{ bound: string }> }>(
      'SELECT pg_get_expr(relpartbound, oid) AS bound FROM pg_class WHERE relname = ?',
      [partition],
    );
    await db.knex.raw(`ALTER TABLE events DETACH PARTITION ${partition}`);
    await db.knex.raw(`DROP TABLE ${partition}`);
    await db.knex.raw(`ALTER TABLE events ATTACH PARTITION events_history ${bound.rows[0]!.bound}`);
    await db.knex.raw(`ALTER TABLE events_history RENAME TO ${partition}`);
    await db.knex.raw(`VACUUM ANALYZE ${partition}`);
    const indexSeconds = seconds(indexStarted);
    const historySizes = await sizesOf(db.knex, partition);
    log(`  loaded in ${loadSeconds} s, indexed, attached and vacuumed in ${indexSeconds} s`);
    const reads = await benchReads({
      knex: db.knex,
      partition,
      streamers: [
        { label: 'hot', rank: 1 },
        { label: 'busy', rank: Math.min(100, options.streamers) },
        { label: 'typical', rank: Math.ceil(options.streamers / 2) },
      ],
      samples: options.readSamples,
      log,
    });
    log(`store: the same reads with more partitions (${options.extraPartitions.join(', ')} more)`);
    const partitionCounts = await benchPartitionCounts({
      knex: db.knex,
      ranks: [1, Math.ceil(options.streamers / 2)],
      counts: options.extraPartitions,
      samples: Math.min(options.readSamples, 100),
      log,
    });
    return {
      mix: typeShares(),
      streamers: options.streamers,
      archive,
      sizes,
      inserts,
      history: { rows: historySizes.rows, loadSeconds, indexSeconds, sizes: historySizes, reads },
      partitionCounts,
    };
  } finally {
    await single.destroy();
    await db.drop();
  }
}

export type StoreBenchResult = Awaited<ReturnType<typeof benchStore>>;

/** The summary rows for bench/run.ts. */
export function storeSummary(result: StoreBenchResult): Array<[string, string]> {
  const { sizes, archive, inserts, history } = result;
  const rows: Array<[string, string]> = [
    [
      'store bytes per event',
      `${sizes.perEvent.total} in PostgreSQL (${sizes.rows} rows: heap ${sizes.perEvent.heap}, indexes ${sizes.perEvent.indexes}, TOAST ${sizes.perEvent.toast}; ${JSON.stringify(sizes.perEvent.byIndex)})`,
    ],
    [
      'store archive bytes per event',
      `${archive.gzipPerEvent} gzip'd NDJSON (${archive.ndjsonPerEvent} plain, ${archive.events} events)`,
    ],
  ];
  for (const s of inserts.summary) {
    rows.push([
      `store insert batch ${s.batch}`,
      `values client ${s.values.clientUs} + backend ${s.values.backendUs} µs; copy client ${s.copy.clientUs} + backend ${s.copy.backendUs} µs per event; copy/values total ${s.ratio.totalUs}, backend ${s.ratio.backendUs}, wall ${s.ratio.wallUs}`,
    ]);
  }
  for (const r of history.reads) {
    rows.push([
      `store reads ${r.label} (${r.rows} of ${history.rows} rows)`,
      `${(['latest', 'before', 'after'] as const).map((k) => `${k} p50 ${r.latencyMs[k].p50} / p99 ${r.latencyMs[k].p99} ms`).join('; ')}; index seeks ${r.plans.filter((p) => p.indexSeek).length} of ${r.plans.length} statements`,
    ]);
  }
  for (const step of result.partitionCounts) {
    rows.push([
      `store reads, ${step.partitions} partitions`,
      Object.entries(step.byRank)
        .map(
          ([rank, l]) =>
            `rank ${rank}: latest ${l.latest.p50}, before ${l.before.p50}, after ${l.after.p50} ms p50`,
        )
        .join('; '),
    ]);
  }
  return rows;
}
