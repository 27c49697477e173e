/**
 * `npm run soak:failover -- [--rounds N]`: what a Redis Cluster failover costs, with and without
 * REDIS_ACK_REPLICAS. Each round SIGKILLs the master of the first callback queue at the 300th
 * of 1,500 acknowledged follows (test/helpers/failover.ts) and counts what PostgreSQL and the
 * watchers are missing afterwards, and what was doubled. Prints one line per round.
 */
import { parseArgs } from 'node:util';
import { runFailover } from '../helpers/failover.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '2' } } });
const rounds = Number(values.rounds);
for (let round = 1; round <= rounds; round++) {
  for (const ackReplicas of [0, 1]) {
    const run = await runFailover({ ackReplicas });
    const statuses = Object.fromEntries(run.report.statuses);
    const doubled = run.watchers.map((w) => w.deliveries - w.unique);
    process.stdout.write(
      `round ${round} REDIS_ACK_REPLICAS=${ackReplicas}: acknowledged ${run.report.acknowledged}/${run.total}, ` +
        `lost from store ${run.lostFromStore}, lost live ${run.lostLive}, stored twice ${run.storedTwice}, ` +
        `delivered twice ${doubled.join('/')}, failover ${run.failoverMs} ms, replica back ${run.replacedMs} ms, ` +
        `answers ${JSON.stringify(statuses)}, unanswered ${run.report.unanswered.length}\n`,
    );
  }
}
process.exit(0);
