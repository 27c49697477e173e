import knexFactory, { type Knex } from 'knex';
import type { Logger } from '../logger.js';

export type { Knex };

export function createDatabase(url: string, log?: Logger, pool = { min: 0, max: 10 }): Knex {
  return knexFactory({
    client: 'pg',
    connection: { connectionString: url, connectionTimeoutMillis: 5000 },
    pool,
    acquireConnectionTimeout: 10_000,
    // knex prints to the console by default; route its warnings into the process's JSON log.
    ...(log && {
      log: {
        warn: (message: unknown) => log.warn({ scope: 'db' }, String(message)),
        error: (message: unknown) => log.error({ scope: 'db' }, String(message)),
        deprecate: (message: unknown) => log.warn({ scope: 'db' }, String(message)),
        debug: (message: unknown) => log.debug({ scope: 'db' }, String(message)),
      },
    }),
  });
}
