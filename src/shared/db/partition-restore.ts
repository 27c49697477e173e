import type { Knex } from 'knex';
import path from 'node:path';
import {
  ArchiveError,
  archiveFileOf,
  readArchiveFile,
  readManifest,
  verifyArchiveFile,
  type ArchivedEvent,
  type ArchiveManifest,
} from './archive-file.js';
import { EVENTS_TABLE, RESTORED_MARK, createPartition, listPartitionRanges } from './partitions.js';

export interface RestoreResult {
  manifest: ArchiveManifest;
  /** Rows new to the table; the rest were there already (a restore run before). */
  inserted: number;
  /**
   * `created`: the partition was made again for the archive's bounds, marked restored.
   * `existing`: a partition of that name holds them (restored before). `shared`: other
   * partitions now cover part of the range, so the rows went to them (or the default one).
   */
  placement: 'created' | 'existing' | 'shared';
}

const rowOf = (line: ArchivedEvent) => ({
  id: line.id,
  type: line.type,
  broadcaster_id: line.broadcasterId,
  broadcaster_login: line.broadcasterLogin,
  broadcaster_name: line.broadcasterName,
  occurred_at: line.stored.occurredAt,
  event_time: line.stored.eventTime,
  actor: line.actor === null ? null : JSON.stringify(line.actor),
  summary: line.summary,
  data: JSON.stringify(line.data),
  message_id: line.stored.messageId,
  received_at: line.stored.receivedAt,
  seq: line.stored.seq,
  // As event-store writes it: true or null, never false.
  backfilled: line.backfilled ? true : null,
});

async function tableExists(knex: Knex, name: string): Promise<boolean> {
  const { rows } = await knex.raw<{ rows: Array<{ oid: unknown }> }>(
    'SELECT to_regclass(?) AS oid',
    [name],
  );
  return rows[0]?.oid !== null;
}

/**
 * Brings `partition`'s archive in `dir` back into `events`: the whole file is verified first
 * (checksum, every line, the count), so a missing or corrupt archive changes nothing. Its
 * partition is made again, marked restored so that retention leaves it alone, unless others
 * cover its range now. Rows already there are skipped (ON CONFLICT DO NOTHING), so a second
 * restore, or one after a stop half-way, doubles nothing. `progress` hears after each batch.
 */
export async function restoreArchive(
  knex: Knex,
  dir: string,
  partition: string,
  progress: (done: number, total: number) => void = () => undefined,
  batchSize = 1000,
): Promise<RestoreResult> {
  const manifest = await readManifest(dir, partition);
  if (!manifest) throw new ArchiveError(`no archive of ${partition} in ${dir}`);
  await verifyArchiveFile(dir, manifest);

  const from = new Date(manifest.from);
  const to = new Date(manifest.to);
  const ranges = await listPartitionRanges(knex);
  const overlapping = ranges.filter(
    (r) => (r.from === null || r.from < to) && (r.to === null || r.to > from),
  );
  let placement: RestoreResult['placement'];
  if (overlapping.length === 1 && overlapping[0]!.name === partition) {
    placement = 'existing';
  } else if (overlapping.length > 0) {
    placement = 'shared';
  } else {
    if (await tableExists(knex, partition)) {
      throw new ArchiveError(
        `a table ${partition} exists but is no partition of ${EVENTS_TABLE}: maintenance may be archiving it; run it again, or drop the table`,
      );
    }
    await createPartition(knex, partition, from, to);
    const mark = `${RESTORED_MARK} ${JSON.stringify({ archive: archiveFileOf(partition), at: new Date().toISOString() })}`;
    await knex.raw(`COMMENT ON TABLE ?? IS ${knex.raw('?', [mark]).toQuery()}`, [partition]);
    placement = 'created';
  }

  let done = 0;
  let inserted = 0;
  let batch: ArchivedEvent[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const rows = await knex(EVENTS_TABLE)
      .insert(batch.map(rowOf))
      .onConflict()
      .ignore()
      .returning('id');
    inserted += rows.length;
    done += batch.length;
    batch = [];
    progress(done, manifest.rows);
  };
  for await (const line of readArchiveFile(path.join(dir, archiveFileOf(partition)))) {
    batch.push(line);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return { manifest, inserted, placement };
}
