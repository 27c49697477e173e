/**
 * Insert CPU per event: the store's multi-row insert against COPY into a staging table, at each
 * batch size, interleaved (the order alternates every round) on one connection, so that one
 * PostgreSQL backend does all the work and its CPU can be read from /proc.
 */
import { readFileSync } from 'node:fs';
import type { Knex } from '../src/shared/connections/database.js';
import {
  createEventStore,
  insertByValues,
  type EventRowWriter,
} from '../src/shared/db/event-store.js';
import { insertByCopy } from './store-copy.js';
import type { StoredEvent } from '../test/helpers/stored-events.js';

export const WRITERS = { values: insertByValues, copy: insertByCopy } as const;
export type WriterName = keyof typeof WRITERS;

/** CPU time (µs) a thread or process has run, from /proc/<pid>/schedstat (nanoseconds). */
export function schedstatUs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
}

const clientUs = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const round2 = (n: number) => Math.round(n * 100) / 100;

export interface InsertMeasurement {
  writer: WriterName;
  batch: number;
  round: number;
  events: number;
  /** µs per event. */
  clientUs: number;
  backendUs: number;
  wallUs: number;
}

export interface InsertSummary {
  batch: number;
  /** Medians over the rounds, µs per event. */
  values: { clientUs: number; backendUs: number; wallUs: number };
  copy: { clientUs: number; backendUs: number; wallUs: number };
  /** Medians over the rounds of copy / values within each round. */
  ratio: { clientUs: number; backendUs: number; totalUs: number; wallUs: number };
}

async function measureOne(
  store: ReturnType<typeof createEventStore>,
  backendPid: number,
  rows: StoredEvent[],
  batch: number,
): Promise<{ clientUs: number; backendUs: number; wallUs: number }> {
  const client0 = clientUs();
  const backend0 = schedstatUs(backendPid);
  const wall0 = performance.now();
  let inserted = 0;
  for (let i = 0; i < rows.length; i += batch) {
    inserted += await store.insert(rows.slice(i, i + batch));
  }
  const wallUs = (performance.now() - wall0) * 1000;
  const backendUs = schedstatUs(backendPid) - backend0;
  const used = clientUs() - client0;
  if (inserted !== rows.length) {
    throw new Error(`stored ${inserted} of ${rows.length} new events in batches of ${batch}`);
  }
  return {
    clientUs: used / rows.length,
    backendUs: backendUs / rows.length,
    wallUs: wallUs / rows.length,
  };
}

/**
 * Both writers' contract, checked on the figures' own table: a batch counts only its new rows,
 * a row twice in one batch once, and a batch already stored adds nothing.
 */
async function checkDedupe(
  stores: Record<WriterName, ReturnType<typeof createEventStore>>,
  take: (count: number) => StoredEvent[],
) {
  for (const [name, store] of Object.entries(stores)) {
    const [a, b] = take(2);
    const first = await store.insert([a!, a!, b!]);
    const again = await store.insert([b!, a!]);
    if (first !== 2 || again !== 0) {
      throw new Error(`${name} stored ${first} of 2 new events, then ${again} of 0`);
    }
  }
}

export async function benchInserts(options: {
  /** A database of its own, pool of one connection. */
  knex: Knex;
  batches: number[];
  rounds: number;
  eventsPerStep: (batch: number) => number;
  take: (count: number) => StoredEvent[];
  log: (line: string) => void;
}): Promise<{ steps: InsertMeasurement[]; summary: InsertSummary[] }> {
  const { knex, log } = options;
  const pidOf = async () =>
    (await knex.raw<{ rows: Array<{ pid: number }> }>('SELECT pg_backend_pid() AS pid')).rows[0]!
      .pid;
  const backendPid = await pidOf();
  const stores = Object.fromEntries(
    Object.entries(WRITERS).map(([name, write]: [string, EventRowWriter]) => [
      name,
      createEventStore(knex, { write }),
    ]),
  ) as Record<WriterName, ReturnType<typeof createEventStore>>;
  // Warm-up: the staging table exists, both statements' code paths are hot.
  for (const store of Object.values(stores)) await store.insert(options.take(200));

  const steps: InsertMeasurement[] = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    for (const batch of options.batches) {
      const order: WriterName[] = round % 2 ? ['values', 'copy'] : ['copy', 'values'];
      for (const writer of order) {
        const rows = options.take(options.eventsPerStep(batch));
        const perEvent = await measureOne(stores[writer], backendPid, rows, batch);
        steps.push({ writer, batch, round, events: rows.length, ...perEvent });
      }
      const [a, b] = steps.slice(-2);
      log(
        `  round ${round}, batch ${batch}: ` +
          [a!, b!]
            .map(
              (s) =>
                `${s.writer} client ${round2(s.clientUs)} µs + backend ${round2(s.backendUs)} µs`,
            )
            .join('; '),
      );
    }
  }
  if ((await pidOf()) !== backendPid) throw new Error('the backend changed during the run');
  await checkDedupe(stores, options.take);
  const summary = options.batches.map((batch) => summarise(steps, batch));
  return { steps, summary };
}

function summarise(steps: InsertMeasurement[], batch: number): InsertSummary {
  const of = (writer: WriterName) => steps.filter((s) => s.batch === batch && s.writer === writer);
  const medians = (writer: WriterName) => ({
    clientUs: round2(median(of(writer).map((s) => s.clientUs))),
    backendUs: round2(median(of(writer).map((s) => s.backendUs))),
    wallUs: round2(median(of(writer).map((s) => s.wallUs))),
  });
  const values = of('values');
  const copy = of('copy');
  const ratios = (pick: (s: InsertMeasurement) => number) =>
    round2(median(values.map((v, i) => pick(copy[i]!) / pick(v))));
  return {
    batch,
    values: medians('values'),
    copy: medians('copy'),
    ratio: {
      clientUs: ratios((s) => s.clientUs),
      backendUs: ratios((s) => s.backendUs),
      totalUs: ratios((s) => s.clientUs + s.backendUs),
      wallUs: ratios((s) => s.wallUs),
    },
  };
}
