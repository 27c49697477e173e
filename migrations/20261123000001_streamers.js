// @ts-check

/** @param {import('knex').Knex} knex */
export async function up(knex) {
  await knex.schema.createTable('streamers', (t) => {
    t.text('id').primary(); // the Twitch user id
    t.text('login').notNullable();
    t.text('display_name');
    t.text('profile_image_url');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // Twitch logins are case-insensitive: "Cool_User" and "cool_user" are one streamer.
  await knex.raw('CREATE UNIQUE INDEX streamers_login_lower_unique ON streamers (lower(login))');
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.dropTable('streamers');
}
