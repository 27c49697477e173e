// @ts-check

/** @param {import('knex').Knex} knex */
export async function up(knex) {
  await knex.schema.alterTable('streamers', (t) => {
    // Scopes the streamer granted streamfeed in streamer mode; they unlock more event types.
    t.specificType('granted_scopes', 'text[]').notNullable().defaultTo('{}');
    // Set when the last viewer stops having the streamer as favourite; cleared when one picks it.
    t.timestamp('unwanted_since', { useTz: true }).nullable();
  });
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.alterTable('streamers', (t) => {
    t.dropColumn('granted_scopes');
    t.dropColumn('unwanted_since');
  });
}
