// A maintenance run in a process of its own, for a test to SIGKILL half-way through an archive
// write: `node --import tsx test/helpers/archive-child.ts <database-url> <dir> <now> <pause-ms>`.
import { createDatabase } from '../../src/shared/connections/database.js';
import { maintainEventPartitions } from '../../src/shared/db/partition-maintenance.js';

const [url, dir, now, pause] = process.argv.slice(2) as [string, string, string, string];
const knex = createDatabase(url);
const result = await maintainEventPartitions(knex, {
  now: new Date(now),
  retentionMonths: 6,
  archive: { dir, pageSize: 50, pauseBetweenPagesMs: Number(pause) },
});
process.stdout.write(`${JSON.stringify(result)}\n`);
await knex.destroy();
