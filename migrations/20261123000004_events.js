// @ts-check

/**
 * The same DDL as ensurePartition() in src/shared/db/partitions.ts: migrations must not import
 * from src or dist, so it is repeated here. Keep the two in step.
 * @param {import('knex').Knex} knex
 * @param {Date} date any instant in the month
 */
async function createMonthPartition(knex, date) {
  const from = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
  const to = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1));
  const name = `events_y${from.getUTCFullYear()}m${String(from.getUTCMonth() + 1).padStart(2, '0')}`;
  await knex.raw(
    `CREATE TABLE IF NOT EXISTS ?? PARTITION OF events FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`,
    [name],
  );
}

/** @param {import('knex').Knex} knex */
export async function up(knex) {
  // id is compared byte-wise (COLLATE "C") so keyset paging does not depend on the server locale.
  await knex.raw(`
    CREATE TABLE events (
      id text COLLATE "C" NOT NULL,
      broadcaster_id text NOT NULL,
      broadcaster_login text NOT NULL,
      broadcaster_name text NOT NULL,
      type text NOT NULL,
      occurred_at timestamptz NOT NULL,
      actor jsonb NULL,
      summary text NOT NULL,
      data jsonb NOT NULL,
      message_id text NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT events_pkey PRIMARY KEY (id, occurred_at)
    ) PARTITION BY RANGE (occurred_at)
  `);
  await knex.raw(
    'CREATE INDEX events_broadcaster_occurred_at_id_index ON events (broadcaster_id, occurred_at DESC, id DESC)',
  );
  const now = new Date();
  for (let ahead = 0; ahead <= 3; ahead += 1) {
    await createMonthPartition(
      knex,
      new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + ahead, 1)),
    );
  }
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  // Dropping the parent drops every partition with it.
  await knex.raw('DROP TABLE events');
}
