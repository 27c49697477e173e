import { ConfigError, loadConfig } from '../shared/config.js';
import { createDatabase } from '../shared/connections/database.js';
import { createLogger } from '../shared/logger.js';
import { USAGE, UsageError, parseArchiveArgs, runArchive } from './archive.js';

// An operator's tool: `npm run archive -- list`, `npm run archive -- restore events_y2026m01`.
// Whatever goes wrong, it says so in one line; a bad archive changes nothing.
const fail = (line: string, code: number): never => {
  process.stderr.write(`archive: ${line}\n`);
  process.exit(code);
};
function readCommand(args: string[]) {
  if (args.length === 0) fail(`nothing to do\n${USAGE}`, 2);
  try {
    return parseArchiveArgs(args);
  } catch (error) {
    if (error instanceof UsageError) fail(error.message, 2);
    throw error;
  }
}
function readConfig() {
  try {
    return loadConfig('release');
  } catch (error) {
    if (error instanceof ConfigError) {
      fail(`invalid configuration: ${error.problems.join('; ')}`, 1);
    }
    throw error;
  }
}

const command = readCommand(process.argv.slice(2));
const config = readConfig();
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
