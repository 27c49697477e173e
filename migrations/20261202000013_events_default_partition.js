// @ts-check

/**
 * A default partition of `events`: an insert whose time no range partition holds (a partition
 * not made yet, an event from long ago) lands here instead of failing, and is watched
 * (streamfeed_events_default_partition_rows, alert StreamfeedEventsInDefaultPartition). Creating
 * a range partition later moves its rows out (createPartition() in src/shared/db/partitions.ts).
 * On an empty parent this is instant; it scans nothing.
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.raw('CREATE TABLE events_default PARTITION OF events DEFAULT');
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  const { rows } = await knex.raw('SELECT count(*)::int AS count FROM events_default');
  if (rows[0].count > 0) {
    throw new Error(
      `events_default holds ${rows[0].count} events: make partitions for them first (npm run migrate), or delete them`,
    );
  }
  await knex.raw('DROP TABLE events_default');
}
