import { randomBytes } from 'node:crypto';
import { createDatabase, type Knex } from '../../src/shared/connections/database.js';
import { runMigrations } from '../../src/shared/db/migrate.js';
import { listEventPartitions } from '../../src/shared/db/partitions.js';

export const TEST_DATABASE_ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  knex: Knex;
  drop(): Promise<void>;
}

function where(url: string): string {
  const { hostname, port } = new URL(url);
  return `${hostname}:${port || '5432'}`;
}

async function withAdmin<T>(fn: (admin: Knex) => Promise<T>): Promise<T> {
  const admin = createDatabase(TEST_DATABASE_ADMIN_URL, { pool: { min: 0, max: 1 } });
  try {
    return await fn(admin);
  } finally {
    await admin.destroy();
  }
}

/** A private, migrated database `sf_test_<hex>`; `drop()` closes the pool and removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `sf_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(async (admin) => {
    await admin.raw('SELECT 1').catch((error: Error & { code?: string }) => {
      const cause = error.code ?? error.message;
      throw new Error(
        `PostgreSQL at ${where(TEST_DATABASE_ADMIN_URL)} cannot be reached (${cause})`,
      );
    });
    await admin.raw('CREATE DATABASE ??', [name]);
  });

  const url = new URL(TEST_DATABASE_ADMIN_URL);
  url.pathname = `/${name}`;
  const knex = createDatabase(url.toString());
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await knex.destroy();
    await withAdmin((admin) => admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]));
  };
  try {
    await runMigrations(knex);
  } catch (error) {
    await drop();
    throw error;
  }
  return { url: url.toString(), knex, drop };
}

/**
 * Drops every partition of `events` the migrations made, so that a test starts from none,
 * whatever month the migrations ran in.
 */
export async function dropEventPartitions(knex: Knex): Promise<void> {
  for (const name of await listEventPartitions(knex)) await knex.raw('DROP TABLE ??', [name]);
}
