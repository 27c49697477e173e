import type { Knex } from 'knex';
import {
  addUnits,
  parsePartitionName,
  partitionNameFor,
  unitStart,
  type PartitionInterval,
} from './partition-interval.js';

export const EVENTS_TABLE = 'events';
/** Catches every row no range partition holds (migration 20261202000013). */
export const DEFAULT_PARTITION = 'events_default';

/** The first instant of the UTC month that holds `date`. */
export function monthStart(date: Date): Date {
  return unitStart(date, 'month');
}

/** `date`'s UTC month moved by `months` (negative for earlier), as its first instant. */
export function addMonths(date: Date, months: number): Date {
  return addUnits(date, 'month', months);
}

// A partition's name has a four-digit year and its bounds are ISO strings PostgreSQL reads:
// December 9999's upper bound (the year 10000) is neither.
const FIRST_PARTITIONED = addMonths(new Date('1000-01-15T00:00:00Z'), 0).getTime();
const END_PARTITIONED = addMonths(new Date('9999-12-15T00:00:00Z'), 0).getTime();

/**
 * Whether an instant can be the partition key of an `events` row: from 1000-01-01 up to, not
 * including, 9999-12-01 (UTC). An event with another time is kept under its arrival instead.
 */
export function isPartitionable(date: Date): boolean {
  const ms = date.getTime();
  return ms >= FIRST_PARTITIONED && ms < END_PARTITIONED;
}

/** The monthly partition of `events` that holds `date`: `events_yYYYYmMM` (UTC month). */
export function partitionName(date: Date): string {
  return partitionNameFor(monthStart(date), 'month');
}

/** An attached range partition of `events`; `from`/`to` null for MINVALUE/MAXVALUE bounds. */
export interface PartitionRange {
  name: string;
  from: Date | null;
  to: Date | null;
  /** The table comment, where streamfeed marks restored and detaching partitions. */
  comment: string | null;
  detachPending: boolean;
}

/** Every partition attached to `events` but the default one, by name. */
export async function listPartitionRanges(knex: Knex): Promise<PartitionRange[]> {
  const { rows } = await knex.raw<{
    rows: Array<{
      name: string;
      from: Date | null;
      to: Date | null;
      comment: string | null;
      detach_pending: boolean;
    }>;
  }>(
    `SELECT c.relname AS name, b.m[1]::timestamptz AS "from", b.m[2]::timestamptz AS "to",
            obj_description(c.oid, 'pg_class') AS comment, i.inhdetachpending AS detach_pending
       FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS expr) e
       CROSS JOIN LATERAL (
         SELECT regexp_match(e.expr, '^FOR VALUES FROM \\(''([^'']*)''\\) TO \\(''([^'']*)''\\)$') AS m
       ) b
      WHERE i.inhparent = to_regclass(?) AND e.expr <> 'DEFAULT'
      ORDER BY c.relname`,
    [EVENTS_TABLE],
  );
  return rows.map((row) => ({
    name: row.name,
    from: row.from,
    to: row.to,
    comment: row.comment,
    detachPending: row.detach_pending,
  }));
}

/** The names of the range partitions currently attached to `events` (not the default one). */
export async function listEventPartitions(knex: Knex): Promise<string[]> {
  return (await listPartitionRanges(knex)).map((range) => range.name);
}

/** The default partition's name, or null when `events` has none. */
export async function defaultPartitionOf(knex: Knex): Promise<string | null> {
  const { rows } = await knex.raw<{ rows: Array<{ name: string }> }>(
    `SELECT c.relname AS name FROM pg_partitioned_table p
       JOIN pg_class c ON c.oid = p.partdefid
      WHERE p.partrelid = to_regclass(?)`,
    [EVENTS_TABLE],
  );
  return rows[0]?.name ?? null;
}

const holds = (range: PartitionRange, at: Date) =>
  (range.from === null || range.from <= at) && (range.to === null || at < range.to);

function errorCode(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}

function isRaceLoss(error: unknown): boolean {
  // 42P07 duplicate_table, 23505 pg_type's unique index, 42P17 "would overlap partition".
  return ['42P07', '23505', '42P17'].includes(errorCode(error) as string);
}

/** 23514 from CREATE ... PARTITION OF: the default partition holds rows of the new range. */
function isDefaultViolation(error: unknown): boolean {
  const message = (error as { message?: unknown } | null)?.message;
  return errorCode(error) === '23514' && typeof message === 'string' && /default/.test(message);
}

const bound = (date: Date) => `'${date.toISOString()}'`;

/**
 * Makes the default partition's rows of [from, to) the new partition `name`, in one transaction:
 * the default partition is locked first (inserts into it wait, and one racing into the new range
 * fails and is retried by its job), so none is lost or left behind. Reads of `events` wait for
 * the move, which is as long as the rows it moves.
 */
async function createMovingDefaultRows(
  knex: Knex,
  defaultPartition: string,
  name: string,
  from: Date,
  to: Date,
): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx.raw('SET LOCAL statement_timeout = 0');
    await trx.raw('LOCK TABLE ?? IN ACCESS EXCLUSIVE MODE', [defaultPartition]);
    await trx.raw(`CREATE TABLE ?? (LIKE ${EVENTS_TABLE} INCLUDING DEFAULTS)`, [name]);
    await trx.raw(
      `WITH moved AS (DELETE FROM ?? WHERE occurred_at >= ? AND occurred_at < ? RETURNING *)
       INSERT INTO ?? SELECT * FROM moved`,
      [defaultPartition, from.toISOString(), to.toISOString(), name],
    );
    await trx.raw(
      `ALTER TABLE ${EVENTS_TABLE} ATTACH PARTITION ?? FOR VALUES FROM (${bound(from)}) TO (${bound(to)})`,
      [name],
    );
  });
}

/**
 * Creates the partition `name` for [from, to). Rows of that range in the default partition move
 * into it. Safe to race: another process creating it at the same moment counts as success.
 */
export async function createPartition(
  knex: Knex,
  name: string,
  from: Date,
  to: Date,
): Promise<void> {
  const defaultPartition = await defaultPartitionOf(knex);
  const create = async () => {
    const stray =
      defaultPartition !== null &&
      (await knex(defaultPartition)
        .first<{ one: number } | undefined>(knex.raw('1 AS one'))
        .where('occurred_at', '>=', from.toISOString())
        .where('occurred_at', '<', to.toISOString()));
    if (stray) return createMovingDefaultRows(knex, defaultPartition, name, from, to);
    try {
      await knex.raw(
        `CREATE TABLE ?? PARTITION OF ${EVENTS_TABLE} FOR VALUES FROM (${bound(from)}) TO (${bound(to)})`,
        [name],
      );
    } catch (error) {
      // A row came into the default partition's share of the range since we looked.
      if (defaultPartition === null || !isDefaultViolation(error)) throw error;
      await createMovingDefaultRows(knex, defaultPartition, name, from, to);
    }
  };
  try {
    await create();
  } catch (error) {
    const made = (await listPartitionRanges(knex)).some((r) => r.name === name);
    if (!isRaceLoss(error) || !made) throw error;
  }
}

/**
 * Makes sure a partition holds `date`, creating the one of `interval` that holds it unless one
 * exists. Where partitions of another interval border it, the new one starts where they end and
 * ends where they start, so intervals can change with no gap and no overlap. Safe to race.
 * Returns the name of the partition that holds `date`.
 */
export async function ensurePartition(
  knex: Knex,
  date: Date,
  interval: PartitionInterval = 'month',
): Promise<string> {
  if (!isPartitionable(date)) throw new RangeError(`No event partition for ${date.toISOString()}`);
  const ranges = await listPartitionRanges(knex);
  const holder = ranges.find((range) => holds(range, date));
  if (holder) return holder.name;
  let from = unitStart(date, interval);
  let to = addUnits(date, interval, 1);
  for (const range of ranges) {
    if (range.to !== null && range.to <= date && range.to > from) from = range.to;
    if (range.from !== null && range.from > date && range.from < to) to = range.from;
  }
  const name = partitionNameFor(from, interval);
  try {
    await createPartition(knex, name, from, to);
  } catch (error) {
    const now = (await listPartitionRanges(knex)).find((range) => holds(range, date));
    if (!now) throw error;
    return now.name;
  }
  return name;
}

/** Partitions that a restore brought back: retention leaves them to an operator. */
export const RESTORED_MARK = 'streamfeed:restored';

/** A partition of ours (by name) that lies wholly before `cutoff` and nobody restored. */
export function isPastRetention(range: PartitionRange, cutoff: Date): boolean {
  return (
    parsePartitionName(range.name) !== null &&
    range.to !== null &&
    range.to <= cutoff &&
    !(range.comment ?? '').startsWith(RESTORED_MARK)
  );
}
