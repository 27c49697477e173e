// @ts-check

/**
 * Backfill after downtime: follows fetched from Helix are marked on their row (`backfilled`,
 * null for everything EventSub delivered; a nullable column without a default rewrites no
 * partition), and each streamer's last backfill is kept for the page to show
 * (`follow_backfills`).
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.raw('ALTER TABLE events ADD COLUMN backfilled boolean NULL');
  await knex.schema.createTable('follow_backfills', (t) => {
    t.text('broadcaster_id').primary().references('id').inTable('streamers').onDelete('CASCADE');
    // 'done', 'no_consent', 'no_token', 'failed'
    t.text('status').notNullable();
    // Where the last run looked from (the gap's start) and what it found.
    t.timestamp('gap_from', { useTz: true }).nullable();
    t.integer('fetched').notNullable().defaultTo(0);
    t.integer('added').notNullable().defaultTo(0);
    t.text('last_error').nullable();
    t.timestamp('ran_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.dropTable('follow_backfills');
  await knex.raw('ALTER TABLE events DROP COLUMN backfilled');
}
