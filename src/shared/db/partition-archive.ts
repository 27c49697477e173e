import type { Knex } from 'knex';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  readManifest,
  verifyArchiveFile,
  writeArchiveFile,
  writeManifest,
  archiveFileOf,
  type ArchivedEvent,
  type ArchiveManifest,
} from './archive-file.js';
import { EVENT_COLUMNS, toEvent, type EventRow } from './event-store.js';
import { parsePartitionName, type PartitionInterval } from './partition-interval.js';
import { EVENTS_TABLE, defaultPartitionOf, type PartitionRange } from './partitions.js';

/** Marks a table detached for archiving, with the bounds it had (the catalog forgets them). */
const DETACHED_MARK = 'streamfeed:detached ';

const DETACH_LOCK_TIMEOUT = '5s';

/** A partition on its way to an archive: detached, its bounds kept in its table comment. */
export interface DetachedPartition {
  name: string;
  from: Date;
  to: Date;
  interval: PartitionInterval | null;
}

export interface ArchiveOptions {
  dir: string;
  /** Rows per read of the detached table (each a short keyset query). */
  pageSize?: number;
  /** Test hook: a pause after each page, so that a write can be killed half-way. */
  pauseBetweenPagesMs?: number;
}

const EXACT = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Every row of a detached partition as an archive line, in primary-key order, page by page. */
async function* archivedRows(
  knex: Knex,
  table: string,
  { pageSize = 5000, pauseBetweenPagesMs = 0 }: ArchiveOptions,
): AsyncGenerator<ArchivedEvent> {
  let after: { id: string; occurred_at: Date } | undefined;
  for (;;) {
    const query = knex(table)
      .select<Array<EventRow & Record<string, unknown>>>([
        ...EVENT_COLUMNS,
        'message_id',
        'seq',
        knex.raw(`${EXACT('occurred_at')} AS occurred_at_exact`),
        knex.raw(`${EXACT('received_at')} AS received_at_exact`),
      ])
      .orderBy([{ column: 'id' }, { column: 'occurred_at' }])
      .limit(pageSize);
    if (after) query.whereRaw('(id, occurred_at) > (?, ?)', [after.id, after.occurred_at]);
    const rows = await query;
    for (const row of rows) {
      yield {
        ...toEvent(row),
        stored: {
          occurredAt: row.occurred_at_exact as string,
          eventTime: row.event_time,
          receivedAt: row.received_at_exact as string,
          messageId: row.message_id as string | null,
          seq: row.seq === null ? null : Number(row.seq),
        },
      };
    }
    if (rows.length < pageSize) return;
    after = rows.at(-1)!;
    if (pauseBetweenPagesMs > 0) await sleep(pauseBetweenPagesMs);
  }
}

/**
 * Detaches a partition past retention, its bounds first written into its table comment so that
 * a run that stops before the archive is done finds it again (detachedPartitions). CONCURRENTLY
 * where PostgreSQL allows it: not with a default partition, and never inside a transaction.
 */
export async function detachPartition(
  knex: Knex,
  range: PartitionRange & { from: Date; to: Date },
): Promise<DetachedPartition> {
  const detached: DetachedPartition = {
    name: range.name,
    from: range.from,
    to: range.to,
    interval: parsePartitionName(range.name)?.interval ?? null,
  };
  const mark = `${DETACHED_MARK}${JSON.stringify(detached)}`;
  if (range.detachPending) {
    // An earlier DETACH ... CONCURRENTLY stopped half-way; only FINALIZE completes it.
    await knex.raw(`COMMENT ON TABLE ?? IS ${knex.raw('?', [mark]).toQuery()}`, [range.name]);
    await knex.raw(`ALTER TABLE ${EVENTS_TABLE} DETACH PARTITION ?? FINALIZE`, [range.name]);
    return detached;
  }
  if ((await defaultPartitionOf(knex)) !== null) {
    await knex.transaction(async (trx) => {
      // Waiting for the lock would queue every insert and read of events behind it: give up
      // soon instead, and let the next run try again.
      await trx.raw(`SET LOCAL lock_timeout = '${DETACH_LOCK_TIMEOUT}'`);
      await trx.raw(`COMMENT ON TABLE ?? IS ${knex.raw('?', [mark]).toQuery()}`, [range.name]);
      await trx.raw(`ALTER TABLE ${EVENTS_TABLE} DETACH PARTITION ??`, [range.name]);
    });
  } else {
    await knex.raw(`COMMENT ON TABLE ?? IS ${knex.raw('?', [mark]).toQuery()}`, [range.name]);
    await knex.raw(`ALTER TABLE ${EVENTS_TABLE} DETACH PARTITION ?? CONCURRENTLY`, [range.name]);
  }
  return detached;
}

/** Tables that a run detached for archiving and did not finish with: to be resumed. */
export async function detachedPartitions(knex: Knex): Promise<DetachedPartition[]> {
  const { rows } = await knex.raw<{ rows: Array<{ name: string; comment: string }> }>(
    `SELECT c.relname AS name, obj_description(c.oid, 'pg_class') AS comment
       FROM pg_class c
      WHERE c.relkind = 'r' AND NOT c.relispartition
        AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = to_regclass(?))
        AND obj_description(c.oid, 'pg_class') LIKE ?
      ORDER BY c.relname`,
    [EVENTS_TABLE, `${DETACHED_MARK}%`],
  );
  return rows.map(({ comment }) => {
    const saved = JSON.parse(comment.slice(DETACHED_MARK.length)) as {
      name: string;
      from: string;
      to: string;
      interval: PartitionInterval | null;
    };
    return { ...saved, from: new Date(saved.from), to: new Date(saved.to) };
  });
}

async function countRows(knex: Knex, table: string): Promise<number> {
  const row = await knex(table).count<{ count: string }>({ count: '*' }).first();
  return Number(row?.count ?? 0);
}

/** Whether `manifest` is a complete archive of the table as it is now. */
async function archiveMatches(
  knex: Knex,
  dir: string,
  manifest: ArchiveManifest | null,
  table: string,
): Promise<boolean> {
  if (!manifest || manifest.rows !== (await countRows(knex, table))) return false;
  try {
    await verifyArchiveFile(dir, manifest);
    return true;
  } catch {
    return false;
  }
}

/**
 * Steps 2-4 of archive-before-drop for a detached partition: writes its archive (unless a
 * complete one of it exists from a run that stopped before the drop), reads it back, writes the
 * manifest, and only then drops the table. Throws, leaving the table, when any step fails.
 */
export async function archiveAndDrop(
  knex: Knex,
  partition: DetachedPartition,
  options: ArchiveOptions,
): Promise<ArchiveManifest> {
  const { dir } = options;
  let manifest = await readManifest(dir, partition.name).catch(() => null);
  if (!(await archiveMatches(knex, dir, manifest, partition.name))) {
    const createdAt = new Date().toISOString();
    const written = await writeArchiveFile(
      dir,
      partition.name,
      archivedRows(knex, partition.name, options),
    );
    const rows = await countRows(knex, partition.name);
    if (written.rows !== rows) {
      throw new Error(`wrote ${written.rows} events of ${rows}: the table changed while archived`);
    }
    await verifyArchiveFile(dir, { partition: partition.name, ...written });
    manifest = {
      format: 'streamfeed-events-ndjson-gzip/1',
      partition: partition.name,
      interval: partition.interval,
      from: partition.from.toISOString(),
      to: partition.to.toISOString(),
      file: archiveFileOf(partition.name),
      ...written,
      createdAt,
      verifiedAt: new Date().toISOString(),
    };
    await writeManifest(dir, manifest);
  }
  await knex.raw('DROP TABLE ??', [partition.name]);
  return manifest!;
}
