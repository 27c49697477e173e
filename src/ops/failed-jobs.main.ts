import { ConfigError, loadConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { createRedis, waitForRedis } from '../shared/connections/redis.js';
import { createQueue } from '../shared/queues.js';
import { USAGE, UsageError, parseFailedJobsArgs, runFailedJobs } from './failed-jobs.js';

// An operator's tool: `npm run jobs -- list eventPersist`, `npm run jobs -- retry eventPersist`.
// Whatever goes wrong, it says so in one line, naming the cause.
const fail = (line: string, code: number): never => {
  process.stderr.write(`failed-jobs: ${line}\n`);
  process.exit(code);
};
function readCommand(args: string[]) {
  if (args.length === 0) fail(`nothing to do\n${USAGE}`, 2);
  try {
    return parseFailedJobsArgs(args);
  } catch (error) {
    if (error instanceof UsageError) fail(error.message, 2);
    throw error;
  }
}
function readConfig() {
  try {
    return loadConfig('jobs');
  } catch (error) {
    if (error instanceof ConfigError) {
      fail(`invalid configuration: ${error.problems.join('; ')}`, 1);
    }
    throw error;
  }
}

const command = readCommand(process.argv.slice(2));
const config = readConfig();
// Its own lines say what failed; the connection's log lines would only repeat it as JSON.
const log = createLogger('silent', 'failed-jobs');
const redis = createRedis(config.redis.url, 'failed-jobs', 'command', log);
const queue = createQueue(command.queue, redis, config.redis.prefix);
let lastError: Error | undefined;
redis.on('error', (error: Error) => (lastError = error));
queue.on('error', (error: Error) => (lastError = error));
try {
  await waitForRedis(redis, 'failed-jobs').catch((error: Error) => {
    const host = new URL(config.redis.url).host;
    throw new Error(`Redis at ${host}: ${lastError?.message ?? error.message}`, { cause: error });
  });
  for (const line of await runFailedJobs(queue, command)) process.stdout.write(`${line}\n`);
} catch (error) {
  process.stderr.write(`failed-jobs: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exitCode = 1;
} finally {
  await queue.close().catch(() => undefined);
  redis.disconnect();
}
