import { loadConfigOrExit } from '../config.js';
import { createDatabase } from '../connections/database.js';
import { createLogger } from '../logger.js';
import { runMigrations } from './migrate.js';
import { maintainEventPartitions } from './partition-maintenance.js';

// The `release` process: migrations, then event partitions; one line per change.
const config = loadConfigOrExit('release');
// knex's own warnings go to the JSON log at warn level; the lines below are for people.
const knex = createDatabase(config.db.url, {
  log: createLogger('error', 'release'),
  pool: { min: 0, max: 2 },
});

const NETWORK_CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
};

/** One line, naming host and port but never the connection string (it may hold a password). */
function describe(error: unknown): string {
  const err = error as { code?: string; errors?: Array<{ code?: string }>; message?: string };
  const code = err.code ?? err.errors?.[0]?.code;
  const { hostname, port } = new URL(config.db.url);
  const where = `PostgreSQL at ${hostname || 'localhost'}:${port || '5432'}`;
  if (code && NETWORK_CAUSES[code]) return `cannot reach ${where}: ${NETWORK_CAUSES[code]}`;
  const message = (err.message ?? String(error)).replaceAll(config.db.url, '<DATABASE_URL>');
  if (/timeout/i.test(message) && !code) return `cannot reach ${where}: ${message}`;
  return `${where}: ${message.replace(/\s*\n\s*/g, '; ')}`;
}

try {
  for (const name of await runMigrations(knex)) console.log(`migrated: ${name}`);
  const { archiveDir } = config.events;
  const { created, dropped, archived, failed } = await maintainEventPartitions(knex, {
    interval: config.events.partitionInterval,
    retention: config.events.retention,
    ahead: config.events.partitionsAhead,
    ...(archiveDir ? { archive: { dir: archiveDir } } : {}),
  });
  for (const name of created) console.log(`partition created: ${name}`);
  for (const name of archived) console.log(`partition archived and dropped: ${name}`);
  for (const name of dropped) {
    console.log(`partition dropped WITHOUT AN ARCHIVE (EVENT_ARCHIVE_DIR is not set): ${name}`);
  }
  // Not a failed release: the partition stays, and the daily job tries it again.
  for (const { name, error } of failed) {
    console.error(`partition not archived, left in place: ${name}: ${error.message}`);
  }
  console.log('release done');
  await knex.destroy();
  process.exit(0);
} catch (error) {
  console.error(`streamfeed release failed: ${describe(error)}`);
  await knex.destroy().catch(() => undefined);
  process.exit(1);
}
