/**
 * History reads against a loaded partition, as GET /api/streamers/:id/events makes them when the
 * feed cache cannot answer: the 10 latest (listBefore), a page `before` an event (positionOf,
 * then listBefore from it) and a page `after` one (seqOf, then listAfter), each for a busy and
 * quieter streamers, with anchors drawn across each one's whole history. Then EXPLAIN (ANALYZE,
 * BUFFERS) of each statement the store sent, checked for index seeks.
 */
import type { Knex } from '../src/shared/connections/database.js';
import { createEventStore } from '../src/shared/db/event-store.js';
import { listEventPartitions } from '../src/shared/db/partitions.js';
import {
  captureQueries,
  explainAnalyzeText,
  explainJson,
  readsOf,
} from '../test/helpers/query-plans.js';
import { latencySummary } from './load.js';

export interface ReadStreamer {
  label: string;
  rank: number;
}

type Read = 'latest' | 'before' | 'after';

export interface PlanCheck {
  read: Read;
  statement: number;
  scans: Array<{ type: string; index: string | null }>;
  sorts: string[];
  indexSeek: boolean;
  executionMs: number | null;
  sharedHit: number;
  sharedRead: number;
  text: string;
}

export interface StreamerReads {
  label: string;
  rank: number;
  broadcasterId: string;
  rows: number;
  latencyMs: Record<Read, ReturnType<typeof latencySummary>>;
  plans: PlanCheck[];
}

const INDEX_SCANS = new Set(['Index Scan', 'Index Only Scan']);

type Reads = Record<Read, (i: number) => Promise<unknown>>;

/** The three reads for one streamer, each page `before`/`after` one of `samples` random events. */
async function streamerReads(knex: Knex, broadcasterId: string, samples: number): Promise<Reads> {
  const store = createEventStore(knex);
  const anchors = (
    await knex.raw<{ rows: Array<{ id: string }> }>(
      `SELECT id FROM events WHERE broadcaster_id = ? AND seq IS NOT NULL
        ORDER BY random() LIMIT ?`,
      [broadcasterId, samples],
    )
  ).rows.map((row) => row.id);
  if (anchors.length === 0) throw new Error(`streamer ${broadcasterId} has no rows`);
  const anchor = (i: number) => anchors[i % anchors.length]!;
  return {
    latest: () => store.listBefore(broadcasterId, 10),
    before: async (i) => {
      const position = await store.positionOf(broadcasterId, anchor(i));
      return store.listBefore(broadcasterId, 10, position!);
    },
    after: async (i) => {
      const seq = await store.seqOf(broadcasterId, anchor(i));
      return store.listAfter(broadcasterId, seq!, 11);
    },
  };
}

/** Latency of each read over `samples` rounds, the three interleaved. */
async function timeReads(reads: Reads, samples: number) {
  const times: Record<Read, number[]> = { latest: [], before: [], after: [] };
  for (let i = 0; i < samples; i += 1) {
    for (const read of READS) {
      const t0 = performance.now();
      await reads[read](i);
      times[read].push(performance.now() - t0);
    }
  }
  return {
    latest: latencySummary(times.latest),
    before: latencySummary(times.before),
    after: latencySummary(times.after),
  };
}

const READS = ['latest', 'before', 'after'] as const;

async function idOfRank(knex: Knex, rank: number): Promise<string> {
  return (await knex('load_streamers').where({ rank }).first<{ id: string }>('id')).id;
}

export async function benchReads(options: {
  knex: Knex;
  /** The partition that holds the rows. */
  partition: string;
  streamers: ReadStreamer[];
  samples: number;
  log: (line: string) => void;
}): Promise<StreamerReads[]> {
  const { knex, partition } = options;
  const results: StreamerReads[] = [];
  for (const { label, rank } of options.streamers) {
    const broadcasterId = await idOfRank(knex, rank);
    const counted = await knex('events').where('broadcaster_id', broadcasterId).count('* as n');
    const rows = Number((counted[0] as { n: string }).n);
    // One anchor more than the loop reads: the plans below page from one it has not read.
    const reads = await streamerReads(knex, broadcasterId, options.samples + 1);
    const latencyMs = await timeReads(reads, options.samples);

    const plans: PlanCheck[] = [];
    for (const read of READS) {
      const queries = await captureQueries(knex, () => reads[read](options.samples));
      for (const [statement, query] of queries.entries()) {
        const { plan, executionMs } = await explainJson(knex, query, { analyze: true });
        const { scans, sorts } = readsOf(plan, partition);
        plans.push({
          read,
          statement: statement + 1,
          scans,
          sorts,
          indexSeek:
            scans.length > 0 && sorts.length === 0 && scans.every((s) => INDEX_SCANS.has(s.type)),
          executionMs,
          sharedHit: Number(plan['Shared Hit Blocks'] ?? 0),
          sharedRead: Number(plan['Shared Read Blocks'] ?? 0),
          text: await explainAnalyzeText(knex, query),
        });
      }
    }
    const line = (read: Read) =>
      `${read} p50 ${latencyMs[read].p50} ms, p99 ${latencyMs[read].p99} ms`;
    options.log(
      `  ${label} (rank ${rank}, ${rows} rows): ${(['latest', 'before', 'after'] as const).map(line).join('; ')}`,
    );
    results.push({ label, rank, broadcasterId, rows, latencyMs, plans });
  }
  return results;
}

/**
 * The same reads with `count` partitions more, each holding a few of every measured streamer's
 * older events: the store's reads name no time, so every partition is searched (a Merge Append
 * of one index scan per partition), as day or week partitions would make them.
 */
export async function benchPartitionCounts(options: {
  knex: Knex;
  ranks: number[];
  counts: number[];
  samples: number;
  log: (line: string) => void;
}) {
  const { knex } = options;
  const ids = await Promise.all(options.ranks.map((rank) => idOfRank(knex, rank)));
  const results: Array<{
    partitions: number;
    byRank: Record<number, Record<Read, ReturnType<typeof latencySummary>>>;
  }> = [];
  let made = 0;
  for (const count of options.counts) {
    for (; made < count; made += 1) {
      const from = new Date(Date.UTC(1990, made, 1));
      const to = new Date(Date.UTC(1990, made + 1, 1));
      const name = `events_bench_extra_${made}`;
      await knex.raw(
        `CREATE TABLE ?? PARTITION OF events FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`,
        [name],
      );
      // 20 older events of each streamer: ids and positions below every loaded one.
      await knex.raw(
        `INSERT INTO ?? (id, type, broadcaster_id, broadcaster_login, broadcaster_name, occurred_at,
                         actor, summary, data, message_id, received_at, seq)
         SELECT 'old_' || ? || '_' || b.ord || '_' || g, s.type, b.id, 'login', 'name', ?::timestamptz,
                s.actor, s.summary, s.data, gen_random_uuid()::text, ?::timestamptz, ? * 100 + g
           FROM unnest(?::text[]) WITH ORDINALITY AS b(id, ord), generate_series(1, 20) AS g,
                load_seed s WHERE s.n = g`,
        [name, made, from.toISOString(), from.toISOString(), made, ids],
      );
      await knex.raw(`ANALYZE ??`, [name]);
    }
    const byRank: Record<number, Record<Read, ReturnType<typeof latencySummary>>> = {};
    for (const [i, id] of ids.entries()) {
      byRank[options.ranks[i]!] = await timeReads(
        await streamerReads(knex, id, options.samples),
        options.samples,
      );
    }
    const partitions = (await listEventPartitions(knex)).length;
    options.log(
      `  ${partitions} partitions: ${Object.entries(byRank)
        .map(
          ([rank, l]) => `rank ${rank} ${READS.map((r) => `${r} p50 ${l[r].p50} ms`).join(', ')}`,
        )
        .join('; ')}`,
    );
    results.push({ partitions, byRank });
  }
  return results;
}
