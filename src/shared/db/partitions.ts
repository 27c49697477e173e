import type { Knex } from 'knex';

const PARENT = 'events';
const NAME_PATTERN = /^events_y(\d{4})m(\d{2})$/;

/** The first instant of a UTC month; not Date.UTC, which takes years 0-99 for 1900-1999. */
function firstOfMonth(year: number, monthIndex: number): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, 1);
  return date;
}

/** The first instant of the UTC month that holds `date`. */
export function monthStart(date: Date): Date {
  return firstOfMonth(date.getUTCFullYear(), date.getUTCMonth());
}

/** `date`'s UTC month moved by `months` (negative for earlier), as its first instant. */
export function addMonths(date: Date, months: number): Date {
  return firstOfMonth(date.getUTCFullYear(), date.getUTCMonth() + months);
}

// A partition's name has a four-digit year and its bounds are ISO strings PostgreSQL reads:
// December 9999's upper bound (the year 10000) is neither.
const FIRST_PARTITIONED = firstOfMonth(1000, 0).getTime();
const END_PARTITIONED = firstOfMonth(9999, 11).getTime();

/**
 * Whether an instant can be the partition key of an `events` row: from 1000-01-01 up to, not
 * including, 9999-12-01 (UTC). An event with another time is kept under its arrival instead.
 */
export function isPartitionable(date: Date): boolean {
  const ms = date.getTime();
  return ms >= FIRST_PARTITIONED && ms < END_PARTITIONED;
}

/** The partition of `events` that holds `date`: `events_yYYYYmMM` (UTC month). */
export function partitionName(date: Date): string {
  const month = String(date.getUTCMonth() + 1).padStart(2, '0');
  return `events_y${date.getUTCFullYear()}m${month}`;
}

/** The month a partition name stands for, or null for a name that is not ours. */
function monthOfPartition(name: string): Date | null {
  const match = NAME_PATTERN.exec(name);
  if (!match) return null;
  const month = Number(match[2]);
  if (month < 1 || month > 12) return null;
  return new Date(Date.UTC(Number(match[1]), month - 1, 1));
}

function isRaceLoss(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // 42P07 duplicate_table, 23505 pg_type's unique index, 42P17 "would overlap partition".
  return code === '42P07' || code === '23505' || code === '42P17';
}

async function partitionExists(knex: Knex, name: string): Promise<boolean> {
  const result = await knex.raw<{ rows: unknown[] }>(
    `SELECT 1 FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = to_regclass(?) AND c.relname = ?`,
    [PARENT, name],
  );
  return result.rows.length > 0;
}

/**
 * Creates the partition for `date`'s UTC month unless it exists. Safe to race: another process
 * creating the same partition at the same moment counts as success. Returns the partition name.
 */
export async function ensurePartition(knex: Knex, date: Date): Promise<string> {
  if (!isPartitionable(date)) throw new RangeError(`No event partition for ${date.toISOString()}`);
  const from = monthStart(date);
  const to = addMonths(from, 1);
  const name = partitionName(from);
  try {
    await knex.raw(
      `CREATE TABLE IF NOT EXISTS ?? PARTITION OF ${PARENT} FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`,
      [name],
    );
  } catch (error) {
    if (!isRaceLoss(error) || !(await partitionExists(knex, name))) throw error;
  }
  return name;
}

/** The names of the partitions currently attached to `events`. */
export async function listEventPartitions(knex: Knex): Promise<string[]> {
  const result = await knex.raw<{ rows: Array<{ name: string }> }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = to_regclass(?)
      ORDER BY c.relname`,
    [PARENT],
  );
  return result.rows.map((row) => row.name);
}

export interface MaintainOptions {
  now?: Date;
  monthsAhead?: number;
  /** Whole months kept before the current one; older partitions are dropped. */
  retentionMonths: number;
}

/**
 * Creates the partitions for the current month and `monthsAhead` more, and drops every
 * `events_yYYYYmMM` partition whose range ends at or before `retentionMonths` months before the
 * start of the current month. Partitions with other names are never touched. Logs nothing.
 */
export async function maintainEventPartitions(
  knex: Knex,
  { now = new Date(), monthsAhead = 3, retentionMonths }: MaintainOptions,
): Promise<{ created: string[]; dropped: string[] }> {
  if (!Number.isInteger(retentionMonths) || retentionMonths < 1) {
    throw new RangeError(`retentionMonths must be a whole number >= 1, got ${retentionMonths}`);
  }
  const current = monthStart(now);
  const before = new Set(await listEventPartitions(knex));

  const created: string[] = [];
  for (let ahead = 0; ahead <= monthsAhead; ahead += 1) {
    const name = await ensurePartition(knex, addMonths(current, ahead));
    if (!before.has(name)) created.push(name);
  }

  const cutoff = addMonths(current, -retentionMonths);
  const dropped: string[] = [];
  for (const name of before) {
    const month = monthOfPartition(name);
    if (!month || addMonths(month, 1) > cutoff) continue;
    // IF EXISTS: another process may have dropped it since we listed it.
    await knex.raw('DROP TABLE IF EXISTS ??', [name]);
    dropped.push(name);
  }
  return { created, dropped };
}
