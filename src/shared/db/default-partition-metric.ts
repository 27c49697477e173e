import type { Knex } from 'knex';
import { Gauge, type Registry } from 'prom-client';
import { defaultPartitionOf } from './partitions.js';

/** Counting stops here: enough to alert on, and a scrape stays cheap however many there are. */
export const DEFAULT_PARTITION_COUNT_CAP = 1_000_000;

/**
 * `streamfeed_events_default_partition_rows`: rows of `events` that no range partition holds
 * (see migration 20261202000013), counted at scrape time up to DEFAULT_PARTITION_COUNT_CAP. No
 * value when PostgreSQL does not answer (streamfeed_dependency_up says why), -1 when `events`
 * has no default partition at all.
 */
export function registerDefaultPartitionRows(registry: Registry, knex: Knex): void {
  new Gauge({
    name: 'streamfeed_events_default_partition_rows',
    help: `Events in the default partition of events: no partition of their time existed when stored (counted up to ${DEFAULT_PARTITION_COUNT_CAP}); -1 without a default partition`,
    registers: [registry],
    async collect() {
      try {
        const table = await defaultPartitionOf(knex);
        if (table === null) {
          this.set(-1);
          return;
        }
        const { rows } = await knex.raw<{ rows: Array<{ count: number }> }>(
          'SELECT count(*)::int AS count FROM (SELECT 1 FROM ?? LIMIT ?) capped',
          [table, DEFAULT_PARTITION_COUNT_CAP],
        );
        this.set(rows[0]!.count);
      } catch {
        this.reset();
      }
    },
  });
}
