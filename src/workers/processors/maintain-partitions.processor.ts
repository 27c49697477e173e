import type { Knex } from 'knex';
import type { Logger } from '../../shared/logger.js';
import { maintainEventPartitions } from '../../shared/db/partitions.js';

/** Creates the coming months' event partitions and drops those past retention. */
export function createMaintainPartitionsProcessor(deps: {
  knex: Knex;
  retentionMonths: number;
  log: Logger;
}) {
  return async function maintainPartitions(): Promise<{ created: string[]; dropped: string[] }> {
    const result = await maintainEventPartitions(deps.knex, {
      retentionMonths: deps.retentionMonths,
    });
    deps.log.info(
      result,
      `Event partitions: created ${result.created.length}, dropped ${result.dropped.length}`,
    );
    return result;
  };
}
