import { loadConfigOrExit } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { createRedis, reportErrors, waitForRedis } from '../shared/connections/redis.js';
import { createQueue } from '../shared/queues.js';
import { USAGE, UsageError, parseFailedJobsArgs, runFailedJobs } from './failed-jobs.js';

// An operator's tool: `npm run jobs -- list eventPersist`, `npm run jobs -- retry eventPersist`.
let command;
try {
  command = parseFailedJobsArgs(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`${error.message}\n${USAGE}\n`);
  process.exit(2);
}

const config = loadConfigOrExit('jobs');
const log = createLogger('warn', 'failed-jobs');
const redis = createRedis(config.redis.url, 'failed-jobs', 'command', log);
const queue = createQueue(command.queue, redis, config.redis.prefix);
reportErrors(queue, `Queue ${command.queue}`, log);
try {
  await waitForRedis(redis, 'failed-jobs');
  for (const line of await runFailedJobs(queue, command)) process.stdout.write(`${line}\n`);
} catch (error) {
  process.stderr.write(`failed-jobs: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await queue.close();
  redis.disconnect();
}
