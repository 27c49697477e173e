import knexFactory, { type Knex } from 'knex';
import type { Logger } from '../logger.js';

export type { Knex };

export interface DatabaseOptions {
  log?: Logger;
  pool?: { min: number; max: number };
  /**
   * PostgreSQL cancels any statement (lock waits included) that runs longer, so that one stuck
   * query fails and is retried instead of holding a pool connection and a worker slot for good.
   * 0 means no limit (migrations).
   */
  statementTimeoutMs?: number;
}

export function createDatabase(url: string, options: DatabaseOptions = {}): Knex {
  const { log, pool = { min: 0, max: 10 }, statementTimeoutMs = 0 } = options;
  return knexFactory({
    client: 'pg',
    connection: {
      connectionString: url,
      connectionTimeoutMillis: 5000,
      ...(statementTimeoutMs > 0 && { statement_timeout: statementTimeoutMs }),
    },
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
