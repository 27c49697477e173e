import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { Knex } from 'knex';
import { EVENTSUB_SECRET, QUEUES, startStack, type Stack } from '../helpers/stack.js';
import { repoRoot } from '../helpers/processes.js';
import { followPayload } from '../helpers/twitch.js';
import { sendLikeTwitch } from '../helpers/twitch-sender.js';
import { addMonths } from '../../src/shared/db/partitions.js';
import { followEventIn, lockEventPartition } from '../helpers/locked-partition.js';
import {
  JOBS,
  PERSIST_JOB_OPTIONS,
  enqueue,
  type PersistEventsJob,
} from '../../src/shared/queues.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// A month whose partition the test locks, as a long maintenance transaction would.
const LOCKED_MONTH = new Date(Date.UTC(2026, 7, 1));

/**
 * Events of `broadcasterId` stored since `from`. A count that reached into the locked partition
 * would wait for the lock itself; a later `from` leaves that partition out of the plan.
 */
async function storedCount(knex: Knex, broadcasterId: string, from: Date): Promise<number> {
  const [row] = await knex('events')
    .where({ broadcaster_id: broadcasterId })
    .where('occurred_at', '>=', from.toISOString())
    .count<{ count: string }[]>('* as count');
  return Number(row!.count);
}

async function waitForStored(
  knex: Knex,
  broadcasterId: string,
  count: number,
  options: { from?: Date; timeoutMs: number },
) {
  const from = options.from ?? LOCKED_MONTH;
  const deadline = Date.now() + options.timeoutMs;
  let stored = await storedCount(knex, broadcasterId, from);
  while (stored < count && Date.now() < deadline) {
    await sleep(100);
    stored = await storedCount(knex, broadcasterId, from);
  }
  return stored;
}

/** The operator's failed-jobs tool, run as an operator would, against the stack's Redis. */
function failedJobsCli(stack: Stack, args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['dist/ops/failed-jobs.main.js', ...args],
      { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...stack.env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe('slow, stuck and failing jobs', function () {
  this.timeout(120_000);
  let stack: Stack;
  let lock: Knex.Transaction | undefined;

  before(async () => {
    stack = await startStack({
      env: { PROCESSOR_CONCURRENCY: '2', DATABASE_STATEMENT_TIMEOUT_MS: '1000' },
    });
  });
  afterEach(async () => {
    await lock?.rollback();
    lock = undefined;
  });
  after(async () => {
    await stack?.stop();
  });

  const holdPartitionLock = async () => {
    lock = await lockEventPartition(stack.knex, LOCKED_MONTH);
  };

  it('stores the events behind stuck ones, and the stuck ones once the lock is gone', async () => {
    const broadcaster = '7401';
    const watcher = await stack.watcher(0);
    assert.equal((await watcher.watch(broadcaster)).ok, true);
    await holdPartitionLock();

    // Four follows land in the locked month, more than the two persist slots; 40 do not.
    const stuck = Array.from({ length: 4 }, (_, n) =>
      followPayload(broadcaster, String(400000 + n), new Date(LOCKED_MONTH.getTime() + n * 1000)),
    );
    const flowing = Array.from({ length: 40 }, (_, n) =>
      followPayload(broadcaster, String(410000 + n)),
    );
    const report = await sendLikeTwitch({
      webhookUrl: stack.webhookUrl,
      secret: EVENTSUB_SECRET,
      payloads: [...stuck, ...flowing],
      concurrency: 1,
    });
    assert.equal(report.acknowledged, 44);

    await watcher.waitFor(44);
    const sinceLockedMonth = addMonths(LOCKED_MONTH, 1);
    assert.equal(
      await waitForStored(stack.knex, broadcaster, 40, {
        from: sinceLockedMonth,
        timeoutMs: 30_000,
      }),
      40,
      'the events outside the locked month are stored while it is locked',
    );
    const persist = stack.queue(QUEUES.persist);
    // Each job holding a stuck event has timed out at least once: that is what freed the slots
    // for the rest. Events processed together share a job, so there may be fewer than four.
    const stuckJobs = await persist.getJobs(['delayed', 'waiting', 'active']);
    const heldActors = stuckJobs.flatMap((job) =>
      (job.data as PersistEventsJob).rows.map((row) => row.event.actor?.id),
    );
    for (let n = 0; n < 4; n++) assert.ok(heldActors.includes(String(400000 + n)));
    for (const job of stuckJobs) assert.match(job.failedReason, /statement timeout/);

    await lock!.commit();
    lock = undefined;
    assert.equal(await waitForStored(stack.knex, broadcaster, 44, { timeoutMs: 45_000 }), 44);
    assert.equal(await persist.getFailedCount(), 0);
  });

  it('keeps a job that failed every attempt, with its error, until an operator retries it', async () => {
    const broadcaster = '7402';
    await holdPartitionLock();
    const event = followEventIn(LOCKED_MONTH, 60_000, {
      eventId: 'ev_operator_retry_test',
      broadcasterId: broadcaster,
      userId: '420000',
    });
    // The production options with fewer attempts, so that they run out within the test.
    await enqueue(
      stack.queues(QUEUES.persist)[0]!,
      JOBS.persistEvent,
      { event, messageId: 'operator-retry-test' },
      { ...PERSIST_JOB_OPTIONS, attempts: 2, jobId: 'operator-retry-test' },
    );
    const persist = stack.queue(QUEUES.persist);
    for (let i = 0; i < 100 && (await persist.getFailedCount()) === 0; i++) await sleep(100);

    const listed = await failedJobsCli(stack, ['list', QUEUES.persist]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^1 failed job\(s\) in eventPersist$/m);
    assert.match(
      listed.stdout,
      /^operator-retry-test\tpersist-event\tattempts=2\tfailed=\S+\t.*statement timeout/m,
    );

    await lock!.commit();
    lock = undefined;
    const retried = await failedJobsCli(stack, ['retry', QUEUES.persist]);
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, /^operator-retry-test: queued again$/m);
    assert.equal(await waitForStored(stack.knex, broadcaster, 1, { timeoutMs: 15_000 }), 1);
    assert.equal(await persist.getFailedCount(), 0);
  });

  it('names what is wrong with a bad command line', async () => {
    const unknown = await failedJobsCli(stack, ['list', 'noSuchQueue']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown queue "noSuchQueue"/);
    assert.match(unknown.stderr, /queues: twitchCallbacks, eventPersist/);
    const notFound = await failedJobsCli(stack, ['retry', QUEUES.persist, 'no-such-job']);
    assert.equal(notFound.code, 0);
    assert.match(notFound.stdout, /^no-such-job: no such job in eventPersist$/m);
  });
});
