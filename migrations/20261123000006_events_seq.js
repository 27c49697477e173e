// @ts-check

/**
 * Each event's position in its streamer's feed (`seq`, assigned once by the feed cache): arrival
 * order, which Twitch's own event times do not follow (a stream.online carries its start time).
 * A viewer away for longer than the feed cache holds is caught up from here by it. Rows stored
 * before this migration have none.
 *
 * On a large table, build the index per partition with CREATE INDEX CONCURRENTLY first: the
 * parent's CREATE INDEX then attaches them instead of locking every partition while it builds.
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.raw('ALTER TABLE events ADD COLUMN seq bigint NULL');
  await knex.raw('CREATE INDEX events_broadcaster_seq_index ON events (broadcaster_id, seq)');
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.raw('DROP INDEX events_broadcaster_seq_index');
  await knex.raw('ALTER TABLE events DROP COLUMN seq');
}
