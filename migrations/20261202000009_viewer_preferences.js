// @ts-check

/**
 * Viewer preferences: the event kinds a viewer hides on the event page (ids of
 * src/shared/events/event-kinds.ts), kept with the viewer so that every device shows the same.
 * A constant default adds the column without rewriting `users`.
 *
 * The page asks the history for only the kinds it shows (`?kinds=`): one index seek per event
 * type on (broadcaster_id, type, seq, id), merged, instead of reading past every hidden event.
 * On a large table, build it per partition with CREATE INDEX CONCURRENTLY first (see
 * 20261123000006_events_seq.js).
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.raw(
    "ALTER TABLE users ADD COLUMN hidden_event_kinds text[] NOT NULL DEFAULT '{}'::text[]",
  );
  await knex.raw(
    'CREATE INDEX events_broadcaster_type_seq_id_index ON events (broadcaster_id, type, seq, id)',
  );
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.raw('DROP INDEX events_broadcaster_type_seq_id_index');
  await knex.raw('ALTER TABLE users DROP COLUMN hidden_event_kinds');
}
