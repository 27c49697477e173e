// @ts-check

/**
 * Every page of GET /api/streamers/:id/events is in arrival order, newest first: by feed
 * position (seq, then id) and, after all of them, the rows stored before positions were (seq
 * null) by when they were stored (received_at, then id). One index for each keyset; the new
 * (broadcaster_id, seq, id) serves `after=` as well, so the (broadcaster_id, seq) one goes.
 *
 * On a large table, build the indexes per partition with CREATE INDEX CONCURRENTLY first (see
 * 20261123000006_events_seq.js).
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.raw(
    'CREATE INDEX events_broadcaster_seq_id_index ON events (broadcaster_id, seq, id)',
  );
  await knex.raw('DROP INDEX events_broadcaster_seq_index');
  await knex.raw(
    'CREATE INDEX events_broadcaster_unpositioned_index ON events (broadcaster_id, received_at, id) WHERE seq IS NULL',
  );
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.raw('DROP INDEX events_broadcaster_unpositioned_index');
  await knex.raw('CREATE INDEX events_broadcaster_seq_index ON events (broadcaster_id, seq)');
  await knex.raw('DROP INDEX events_broadcaster_seq_id_index');
}
