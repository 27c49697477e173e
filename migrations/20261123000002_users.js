// @ts-check

/** @param {import('knex').Knex} knex */
export async function up(knex) {
  await knex.schema.createTable('users', (t) => {
    t.text('id').primary(); // the Twitch user id
    t.text('login');
    t.text('display_name');
    t.text('profile_image_url');
    t.text('favorite_streamer_id')
      .nullable()
      .references('id')
      .inTable('streamers')
      .onDelete('SET NULL');
    t.timestamp('favorite_set_at', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['favorite_streamer_id'], 'users_favorite_streamer_id_index');
  });
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.dropTable('users');
}
