import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { bullPrefix, createQueue, QUEUES } from '../../src/shared/queues.js';
import { freePort, repoRoot } from '../helpers/processes.js';
import { deleteKeys, TEST_REDIS_URL } from '../helpers/redis.js';

/** `npm run jobs -- ...` as an operator runs it. */
function failedJobs(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['dist/ops/failed-jobs.main.js', ...args],
      { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe('npm run jobs: every problem on one line', function () {
  this.timeout(60_000);
  const prefix = `t${randomBytes(5).toString('hex')}`;
  const env = { TWITCH_EVENTSUB_SECRET: 'a-test-secret-1234', REDIS_URL: TEST_REDIS_URL };
  let redis: Redis;

  before(() => {
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('lists a job that failed on a bad payload on one line, naming each cause', async () => {
    const queue = createQueue(QUEUES.callbacks, redis, prefix);
    const blocking = () => new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const events = new QueueEvents(queue.name, {
      connection: blocking(),
      prefix: bullPrefix(prefix),
    });
    // What the callback processor throws for a body that fails its schema.
    const schema = z.object({ event: z.object({ user_id: z.string(), user_login: z.string() }) });
    const worker = new Worker(
      queue.name,
      (job) => {
        const parsed = schema.safeParse(job.data);
        if (parsed.success) return Promise.resolve();
        const reason = `Unusable payload: ${z.prettifyError(parsed.error)}`;
        return Promise.reject(new UnrecoverableError(reason));
      },
      { connection: blocking(), prefix: bullPrefix(prefix) },
    );
    try {
      await events.waitUntilReady();
      const failed = new Promise((resolve) => events.once('failed', resolve));
      await queue.add('eventsub-callback', { event: { user_id: 7 } }, { jobId: 'bad-1' });
      await failed;
      const reason = (await queue.getJob('bad-1'))?.failedReason ?? '';
      assert.ok(reason.split('\n').length > 2, `a multi-line zod reason: ${reason}`);

      const { code, stdout } = await failedJobs(['list', QUEUES.callbacks], {
        ...env,
        REDIS_PREFIX: prefix,
      });
      assert.equal(code, 0, stdout);
      const lines = stdout.trim().split('\n');
      assert.equal(lines.length, 2, stdout);
      assert.match(lines[0]!, /^1 failed job\(s\) in twitchCallbacks/);
      assert.match(
        lines[1]!,
        /^bad-1\teventsub-callback\t.*\tUnusable payload: ✖ Invalid input: expected string, received number → at event\.user_id; ✖ Invalid input: expected string, received undefined → at event\.user_login$/,
      );
    } finally {
      await worker.close();
      await events.close();
      await queue.close();
    }
  });

  it('says in one line what is wrong with the arguments or the configuration', async () => {
    const cases: Array<[string[], NodeJS.ProcessEnv, number, RegExp]> = [
      [
        ['list'],
        env,
        2,
        /^failed-jobs: unknown queue "" \(queues: twitchCallbacks, eventPersist, /,
      ],
      [['drop', 'eventPersist'], env, 2, /^failed-jobs: unknown action "drop": use list /],
      [['list', 'eventPersist', '--limit', '0'], env, 2, /^failed-jobs: unexpected --limit 0: /],
      [
        ['list', 'eventPersist'],
        { REDIS_URL: TEST_REDIS_URL, TWITCH_EVENTSUB_SECRET: 'short' },
        1,
        /^failed-jobs: invalid configuration: TWITCH_EVENTSUB_SECRET: .*characters/,
      ],
    ];
    for (const [args, caseEnv, expected, message] of cases) {
      const { code, stdout, stderr } = await failedJobs(args, caseEnv);
      assert.equal(code, expected, stderr);
      assert.equal(stdout, '');
      assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
      assert.match(stderr, message);
    }
  });

  it('names the cause in one line when Redis does not answer', async () => {
    const port = await freePort(); // nothing listens there
    const { code, stdout, stderr } = await failedJobs(['list', 'eventPersist'], {
      ...env,
      REDIS_URL: `redis://127.0.0.1:${port}`,
    });
    assert.equal(code, 1, stderr);
    assert.equal(stdout, '');
    assert.equal(
      stderr,
      `failed-jobs: Redis at 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
  });
});
