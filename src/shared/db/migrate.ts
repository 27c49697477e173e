import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';

/** `<repo>/migrations`: three levels up from both src/shared/db and dist/shared/db. */
export const MIGRATIONS_DIRECTORY = fileURLToPath(new URL('../../../migrations/', import.meta.url));

/** Runs every pending migration; returns the file names it ran, in order. */
export async function runMigrations(knex: Knex): Promise<string[]> {
  const [, ran] = (await knex.migrate.latest({
    directory: MIGRATIONS_DIRECTORY,
    loadExtensions: ['.js'],
  })) as [number, string[]];
  return ran;
}
