import type pg from 'pg';
import type { Knex } from '../../src/shared/connections/database.js';

// knex types its client loosely; these two are what its pool hands out and takes back.
interface PooledClient {
  acquireConnection(): Promise<pg.Client>;
  releaseConnection(connection: pg.Client): Promise<void>;
}

/** Runs `fn` on one of the pool's own pg connections, for what knex cannot send (COPY). */
export async function onConnection<T>(
  knex: Knex,
  fn: (connection: pg.Client) => Promise<T>,
): Promise<T> {
  const client = knex.client as PooledClient;
  const connection = await client.acquireConnection();
  try {
    return await fn(connection);
  } finally {
    await client.releaseConnection(connection);
  }
}
