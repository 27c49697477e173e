import type { Knex } from 'knex';
import {
  archiveAndDrop,
  detachPartition,
  detachedPartitions,
  type ArchiveOptions,
} from './partition-archive.js';
import {
  DEFAULT_AHEAD,
  addUnits,
  unitStart,
  type PartitionInterval,
} from './partition-interval.js';
import {
  defaultPartitionOf,
  ensurePartition,
  isPartitionable,
  isPastRetention,
  listPartitionRanges,
} from './partitions.js';

export interface MaintainOptions {
  now?: Date;
  interval?: PartitionInterval;
  /** Whole intervals made ahead of the current one. */
  ahead?: number;
  /** Whole intervals kept before the current one; older partitions are archived or dropped. */
  retention?: number;
  /** The same as `retention` with `interval: 'month'` (EVENT_RETENTION_MONTHS). */
  retentionMonths?: number;
  /** Archive past-retention partitions here before they are dropped; without it, just drop. */
  archive?: ArchiveOptions;
}

export interface MaintainResult {
  created: string[];
  /** Dropped without an archive (no EVENT_ARCHIVE_DIR): their events are gone. */
  dropped: string[];
  /** Archived, verified, then dropped. */
  archived: string[];
  /** Left in place (attached or detached) because a step failed; retried by the next run. */
  failed: Array<{ name: string; error: Error }>;
}

// Any two runs at once (release and the daily job) would archive the same partition twice.
const ARCHIVE_LOCK = 0x5f_ee_d0_01;

/** Runs `fn` unless another process holds the archive lock (then null). */
async function exclusively<T>(knex: Knex, fn: () => Promise<T>): Promise<T | null> {
  return knex.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: Array<{ locked: boolean }> }>(
      'SELECT pg_try_advisory_xact_lock(?) AS locked',
      [ARCHIVE_LOCK],
    );
    return rows[0]!.locked ? fn() : null;
  });
}

/** Units of the default partition's rows from `cutoff` on: their partitions are made. */
async function strayUnits(knex: Knex, interval: PartitionInterval, cutoff: Date): Promise<Date[]> {
  const table = await defaultPartitionOf(knex);
  if (table === null) return [];
  const { rows } = await knex.raw<{ rows: Array<{ unit: Date }> }>(
    `SELECT DISTINCT date_trunc(?, occurred_at, 'UTC') AS unit FROM ?? WHERE occurred_at >= ?
      ORDER BY 1 LIMIT 1000`,
    [interval, table, cutoff.toISOString()],
  );
  return rows.map((row) => row.unit).filter(isPartitionable);
}

/**
 * Creates the partitions of `interval` for the current one and `ahead` more (starting where
 * existing partitions of another interval end), and those that rows in the default partition
 * within retention need. Then every partition of ours (any interval) that ends at or before
 * `retention` intervals before the start of the current one is archived and dropped, or only
 * dropped without `archive`; tables detached by an earlier run that stopped are finished first.
 * Partitions with other names, and restored ones, are never touched. Logs nothing.
 */
export async function maintainEventPartitions(
  knex: Knex,
  options: MaintainOptions,
): Promise<MaintainResult> {
  const { now = new Date(), archive } = options;
  const interval = options.retentionMonths === undefined ? (options.interval ?? 'month') : 'month';
  const retention = options.retention ?? options.retentionMonths;
  const ahead = options.ahead ?? DEFAULT_AHEAD[interval];
  if (retention === undefined || !Number.isInteger(retention) || retention < 1) {
    throw new RangeError(`retention must be a whole number >= 1, got ${retention}`);
  }
  if (!Number.isInteger(ahead) || ahead < 0) {
    throw new RangeError(`ahead must be a whole number >= 0, got ${ahead}`);
  }
  const before = new Set((await listPartitionRanges(knex)).map((range) => range.name));
  const cutoff = addUnits(now, interval, -retention);

  const created: string[] = [];
  const ensure = async (date: Date) => {
    const name = await ensurePartition(knex, date, interval);
    if (!before.has(name) && !created.includes(name)) created.push(name);
    return name;
  };
  // From partition to partition: where one of another interval ends, the next one begins.
  const end = addUnits(now, interval, ahead + 1);
  for (let cursor = unitStart(now, interval); cursor < end;) {
    const name = await ensure(cursor);
    const next = (await listPartitionRanges(knex)).find((range) => range.name === name)?.to;
    if (!next || next <= cursor) break;
    cursor = next;
  }
  for (const date of await strayUnits(knex, interval, cutoff)) await ensure(date);

  const result: MaintainResult = { created, dropped: [], archived: [], failed: [] };
  const retire = async () => {
    const ranges = await listPartitionRanges(knex);
    const past = ranges.filter(
      (range): range is typeof range & { from: Date; to: Date } =>
        isPastRetention(range, cutoff) && range.from !== null,
    );
    if (!archive) {
      for (const { name } of past) {
        // IF EXISTS: another process may have dropped it since we listed it.
        await knex.raw('DROP TABLE IF EXISTS ??', [name]);
        result.dropped.push(name);
      }
      return;
    }
    const resumed = await detachedPartitions(knex);
    const todo = [
      ...resumed.map((partition) => () => Promise.resolve(partition)),
      ...past.map((range) => () => detachPartition(knex, range)),
    ];
    const names = [...resumed.map((p) => p.name), ...past.map((r) => r.name)];
    for (const [i, detach] of todo.entries()) {
      try {
        const manifest = await archiveAndDrop(knex, await detach(), archive);
        result.archived.push(manifest.partition);
      } catch (error) {
        result.failed.push({ name: names[i]!, error: error as Error });
      }
    }
  };
  await (archive ? exclusively(knex, retire) : retire());
  return result;
}
