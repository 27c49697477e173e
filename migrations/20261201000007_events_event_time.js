// @ts-check

/**
 * An event whose own time cannot be its partition key (RFC 3339 allows years 0000-9999; the
 * monthly partitions hold 1000-01-01 up to 9999-12-01, see isPartitionable() in
 * src/shared/db/partitions.ts) is stored under its arrival: `occurred_at` then holds the instant
 * it was stored and `event_time` the event's own time, which is what the API shows. Null for every
 * other row. Adding a nullable column without a default rewrites nothing.
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.raw('ALTER TABLE events ADD COLUMN event_time text NULL');
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.raw('ALTER TABLE events DROP COLUMN event_time');
}
