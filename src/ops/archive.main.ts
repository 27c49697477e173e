import { operatorCli } from './cli.js';
import { createDatabase } from '../shared/connections/database.js';
import { createLogger } from '../shared/logger.js';
import { USAGE, parseArchiveArgs, runArchive } from './archive.js';

// An operator's tool: `npm run archive -- list`, `npm run archive -- restore events_y2026m01`.
// Whatever goes wrong, it says so in one line; a bad archive changes nothing.
const { fail, readCommand, readConfig } = operatorCli('archive');

const command = readCommand(process.argv.slice(2), parseArchiveArgs, USAGE);
const config = readConfig('release');
const dir = config.events.archiveDir ?? fail('EVENT_ARCHIVE_DIR is not set: no archives to use', 1);
const knex = createDatabase(config.db.url, {
  log: createLogger('error', 'archive'),
  pool: { min: 0, max: 2 },
});
try {
  await runArchive(knex, dir, command, (line) => process.stdout.write(`${line}\n`));
} catch (error) {
  process.stderr.write(`archive: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exitCode = 1;
} finally {
  await knex.destroy();
}
