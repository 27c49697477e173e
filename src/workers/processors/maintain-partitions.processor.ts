import type { Knex } from 'knex';
import type { Logger } from '../../shared/logger.js';
import type { PartitionInterval } from '../../shared/db/partition-interval.js';
import {
  maintainEventPartitions,
  type MaintainResult,
} from '../../shared/db/partition-maintenance.js';

export interface PartitionSettings {
  interval: PartitionInterval;
  retention: number;
  ahead: number;
  /** EVENT_ARCHIVE_DIR; without it, partitions past retention are dropped unarchived. */
  archiveDir: string | undefined;
}

/** One line per change, and a loud one for every partition dropped without an archive. */
export function logMaintenance(log: Logger, result: MaintainResult): void {
  const { created, dropped, archived, failed } = result;
  log.info(
    { created, dropped, archived, failed: failed.map((f) => f.name) },
    `Event partitions: created ${created.length}, archived ${archived.length}, dropped unarchived ${dropped.length}, failed ${failed.length}`,
  );
  for (const name of dropped) {
    log.warn(
      { partition: name },
      `Dropped event partition ${name} without an archive (EVENT_ARCHIVE_DIR is not set): its events are gone`,
    );
  }
  for (const { name, error } of failed) {
    log.error(
      { partition: name, err: error },
      `Event partition ${name} past retention was not archived, left in place to retry on the next run: ${error.message}`,
    );
  }
}

/**
 * Creates the coming intervals' event partitions, and archives (or drops) those past retention.
 * A partition that could not be archived fails the job once the others are done, so that it
 * shows among failed jobs; the next run (or retry) resumes it.
 */
export function createMaintainPartitionsProcessor(deps: {
  knex: Knex;
  settings: PartitionSettings;
  log: Logger;
}) {
  const { interval, retention, ahead, archiveDir } = deps.settings;
  return async function maintainPartitions(): Promise<{
    created: string[];
    dropped: string[];
    archived: string[];
  }> {
    const result = await maintainEventPartitions(deps.knex, {
      interval,
      retention,
      ahead,
      ...(archiveDir ? { archive: { dir: archiveDir } } : {}),
    });
    logMaintenance(deps.log, result);
    if (result.failed.length > 0) {
      throw new Error(
        `Not archived: ${result.failed.map((f) => `${f.name} (${f.error.message})`).join('; ')}`,
      );
    }
    const { created, dropped, archived } = result;
    return { created, dropped, archived };
  };
}
