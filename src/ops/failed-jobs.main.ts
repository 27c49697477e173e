import { operatorCli } from './cli.js';
import { createLogger } from '../shared/logger.js';
import { createRedis, waitForRedis } from '../shared/connections/redis.js';
import { clusterProblem } from '../shared/connections/cluster-state.js';
import { createNamedQueue, createShardedQueue } from '../shared/queues.js';
import { USAGE, parseFailedJobsArgs, runFailedJobs } from './failed-jobs.js';

// An operator's tool: `npm run jobs -- list eventPersist`, `npm run jobs -- retry eventPersist`.
// Whatever goes wrong, it says so in one line, naming the cause.
const { fail, readCommand, readConfig } = operatorCli('failed-jobs');

const command = readCommand(process.argv.slice(2), parseFailedJobsArgs, USAGE);
const config = readConfig('jobs');
// Its own lines say what failed; the connection's log lines would only repeat it as JSON.
const log = createLogger('silent', 'failed-jobs');
const { cluster, prefix, queueShards } = config.redis;
if (cluster) {
  const problem = await clusterProblem(cluster);
  if (problem) fail(problem, 1);
}
const redis = createRedis(config.redis, 'failed-jobs', 'command', log);
const shards = createShardedQueue(command.queue, redis, prefix, queueShards).shards;
// On a single Redis, the queue of versions before the shards may still hold failed jobs.
const queues = cluster ? shards : [...shards, createNamedQueue(command.queue, redis, prefix)];
let lastError: Error | undefined;
redis.on('error', (error: Error) => (lastError = error));
for (const queue of queues) queue.on('error', (error: Error) => (lastError = error));
try {
  await waitForRedis(redis, 'failed-jobs').catch((error: Error) => {
    const where = cluster ? 'Redis Cluster' : `Redis at ${new URL(config.redis.url).host}`;
    throw new Error(`${where}: ${lastError?.message ?? error.message}`, { cause: error });
  });
  for (const line of await runFailedJobs(queues, command)) process.stdout.write(`${line}\n`);
} catch (error) {
  process.stderr.write(`failed-jobs: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exitCode = 1;
} finally {
  await Promise.all(queues.map((queue) => queue.close().catch(() => undefined)));
  redis.disconnect();
}
