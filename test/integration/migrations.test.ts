import { readdirSync } from 'node:fs';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { MIGRATIONS_DIRECTORY, runMigrations } from '../../src/shared/db/migrate.js';
import { addMonths, listEventPartitions, partitionName } from '../../src/shared/db/partitions.js';

const TABLES = ['events', 'eventsub_subscriptions', 'follow_backfills', 'streamers', 'users'];

async function tables(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.knex.raw<{ rows: Array<{ name: string }> }>(
    `SELECT c.relname AS name FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND c.relname NOT LIKE 'knex_%'
      ORDER BY 1`,
  );
  return rows.map((row) => row.name);
}

async function indexes(db: TestDatabase, table: string): Promise<string[]> {
  const { rows } = await db.knex.raw<{ rows: Array<{ name: string }> }>(
    'SELECT indexname AS name FROM pg_indexes WHERE tablename = ? ORDER BY 1',
    [table],
  );
  return rows.map((row) => row.name);
}

const expectedPartitions = (now = new Date()) =>
  [0, 1, 2, 3].map((ahead) => partitionName(addMonths(now, ahead)));

describe('migrations (real PostgreSQL)', () => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db?.drop(); // undefined when PostgreSQL could not be reached
  });

  it('creates the tables, indexes and the current and next 3 months of event partitions', async () => {
    assert.deepEqual(await tables(db), TABLES);
    assert.deepEqual(await listEventPartitions(db.knex), expectedPartitions());
    assert.deepEqual(await indexes(db, 'events'), [
      'events_broadcaster_occurred_at_id_index',
      'events_broadcaster_seq_id_index',
      'events_broadcaster_type_seq_id_index',
      'events_broadcaster_unpositioned_index',
      'events_pkey',
    ]);
    assert.deepEqual(await indexes(db, 'eventsub_subscriptions'), [
      'eventsub_subscriptions_broadcaster_id_index',
      'eventsub_subscriptions_pkey',
      'eventsub_subscriptions_status_index',
      'eventsub_subscriptions_twitch_id_unique',
      'eventsub_subscriptions_type_version_condition_unique',
    ]);
    assert.ok((await indexes(db, 'users')).includes('users_favorite_streamer_id_index'));
    assert.ok((await indexes(db, 'streamers')).includes('streamers_login_lower_unique'));
    // The parent's index reaches every partition.
    const partitionIndexes = await indexes(db, expectedPartitions()[0]!);
    assert.equal(partitionIndexes.length, 5);
  });

  it('partitions events by range of occurred_at', async () => {
    const { rows } = await db.knex.raw<{ rows: Array<{ strategy: string; column: string }> }>(
      `SELECT p.partstrat AS strategy, a.attname AS column
         FROM pg_partitioned_table p
         JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
        WHERE p.partrelid = 'events'::regclass`,
    );
    assert.deepEqual(rows, [{ strategy: 'r', column: 'occurred_at' }]);
  });

  it('rolls all the way down and back up', async () => {
    await db.knex.migrate.rollback(
      { directory: MIGRATIONS_DIRECTORY, loadExtensions: ['.js'] },
      true,
    );
    assert.deepEqual(await tables(db), []);
    const ran = await runMigrations(db.knex);
    assert.equal(
      ran.length,
      readdirSync(MIGRATIONS_DIRECTORY).filter((f) => f.endsWith('.js')).length,
    );
    assert.deepEqual(await tables(db), TABLES);
    assert.deepEqual(await listEventPartitions(db.knex), expectedPartitions());
    assert.deepEqual(await runMigrations(db.knex), []);
  });

  it('enforces the constraints the app relies on', async () => {
    const k = db.knex;
    await k('streamers').insert({ id: '1', login: 'cool_user', display_name: 'Cool_User' });
    await assert.rejects(k('streamers').insert({ id: '2', login: 'Cool_User' }), { code: '23505' });

    await k('users').insert({ id: '9', login: 'viewer', favorite_streamer_id: '1' });
    const sub = { broadcaster_id: '1', type: 'channel.follow', version: '2' };
    await k('eventsub_subscriptions').insert({
      ...sub,
      condition: JSON.stringify({ broadcaster_user_id: '1', moderator_user_id: '1' }),
    });
    // The same condition with its keys in another order is the same subscription.
    await assert.rejects(
      k('eventsub_subscriptions').insert({
        ...sub,
        condition: JSON.stringify({ moderator_user_id: '1', broadcaster_user_id: '1' }),
      }),
      { code: '23505' },
    );
    const subs = await k('eventsub_subscriptions').select<Array<{ status: string }>>('status');
    assert.deepEqual(subs, [{ status: 'pending' }]);

    await k('streamers').where({ id: '1' }).delete();
    const users =
      await k('users').select<Array<{ favorite_streamer_id: string | null }>>(
        'favorite_streamer_id',
      );
    assert.deepEqual(users, [{ favorite_streamer_id: null }]);
    assert.equal((await k('eventsub_subscriptions').count('* as n'))[0]!.n, '0');
  });
});
