// @ts-check

/** @param {import('knex').Knex} knex */
export async function up(knex) {
  await knex.schema.createTable('eventsub_subscriptions', (t) => {
    t.bigIncrements('id').primary();
    t.text('twitch_id').nullable().unique({ indexName: 'eventsub_subscriptions_twitch_id_unique' });
    t.text('broadcaster_id')
      .notNullable()
      .references('id')
      .inTable('streamers')
      .onDelete('CASCADE');
    t.text('type').notNullable();
    t.text('version').notNullable();
    t.jsonb('condition').notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.integer('cost');
    t.text('last_error').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // jsonb equality ignores key order and whitespace, so one condition is one subscription.
    t.unique(['type', 'version', 'condition'], {
      indexName: 'eventsub_subscriptions_type_version_condition_unique',
    });
    t.index(['broadcaster_id'], 'eventsub_subscriptions_broadcaster_id_index');
    t.index(['status'], 'eventsub_subscriptions_status_index');
  });
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.dropTable('eventsub_subscriptions');
}
