import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { EVENTSUB_SECRET, QUEUES, startStack, type Stack } from '../helpers/stack.js';
import { deliver, followPayload, notificationBody } from '../helpers/twitch.js';
import { assertDeliveredOnce, assertStoredOnce } from '../helpers/exactly-once.js';
import { JOBS, bullPrefix, streamerShard } from '../../src/shared/queues.js';
import { callbackJobId } from '../../src/api/webhooks/eventsub-intake.js';
import { onCluster } from '../helpers/topology.js';
import { normalizeEvent } from '../../src/shared/events/normalize.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const follow = (stack: Stack, streamer: string, user: string) =>
  deliver(stack.webhookUrl, EVENTSUB_SECRET, {
    body: notificationBody(followPayload(streamer, user)),
    subscriptionType: 'channel.follow',
    subscriptionVersion: '2',
  });

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

describe('sharded queues (QUEUE_SHARDS, WORKER_SHARDS)', function () {
  this.timeout(120_000);
  const SHARDS = 4;
  const STREAMERS = Array.from({ length: 16 }, (_, i) => String(8101 + i));
  let stack: Stack;

  before(async () => {
    // Two processors and two emitters, each working half of the shards.
    stack = await startStack({
      env: { QUEUE_SHARDS: String(SHARDS) },
      without: ['processor', 'emitter'],
    });
  });
  after(async () => {
    await stack?.stop();
  });

  it('queues each callback on its streamer shard, and workers of shard subsets deliver all once', async () => {
    const workers = await Promise.all(
      ['0-1', '2-3'].flatMap((shards, i) =>
        (['processor', 'emitter'] as const).map((type) =>
          stack.startNode(`${type}${i + 1}`, type, { WORKER_SHARDS: shards }),
        ),
      ),
    );
    assert.equal(workers.length, 4);
    const watcher = await stack.watcher(0);
    for (const id of STREAMERS) assert.equal((await watcher.watch(id)).ok, true);

    const sent: { streamer: string; messageId: string }[] = [];
    for (let n = 0; n < 64; n++) {
      const streamer = STREAMERS[n % STREAMERS.length]!;
      const result = await follow(stack, streamer, String(610000 + n));
      assert.equal(result.status, 202, result.body);
      sent.push({ streamer, messageId: result.messageId });
    }
    await assertDeliveredOnce(watcher, sent.length);
    await assertStoredOnce(stack, STREAMERS, sent.length);

    const shards = stack.queues(QUEUES.callbacks);
    assert.equal(shards.length, SHARDS);
    for (const { streamer, messageId } of sent) {
      const expected = streamerShard(streamer, SHARDS);
      const job = await shards[expected]!.getJob(callbackJobId(messageId));
      assert.ok(job, `the callback of streamer ${streamer} is on shard ${expected}`);
    }
    const used = new Set(sent.map(({ streamer }) => streamerShard(streamer, SHARDS)));
    assert.equal(used.size, SHARDS, '16 streamers spread over every shard');
    for (const kind of [QUEUES.callbacks, QUEUES.persist, QUEUES.notifications]) {
      const completed = await Promise.all(
        stack.queues(kind).map((queue) => queue.getCompletedCount()),
      );
      assert.ok(
        completed.every((count) => count > 0),
        `every ${kind} shard did work: ${completed.join(', ')}`,
      );
      for (const queue of stack.queues(kind)) assert.equal(await queue.getFailedCount(), 0);
    }
  });
});

describe('queues of versions before the shards, on a single Redis', function () {
  this.timeout(120_000);
  // No earlier version ran on a cluster, and their untagged keys would span slots there.
  before(function () {
    if (onCluster) this.skip();
  });
  let stack: Stack;
  const legacy: Queue[] = [];
  const legacyQueue = (name: string) => {
    const queue = new Queue(name, { connection: stack.redis, prefix: bullPrefix(stack.prefix) });
    legacy.push(queue);
    return queue;
  };

  before(async () => {
    stack = await startStack({ without: ['processor', 'emitter'] });
  });
  after(async () => {
    await Promise.all(legacy.map((queue) => queue.close()));
    await stack?.stop();
  });

  it('drains callbacks, notifications and storage jobs left under the bare names, and removes old schedulers', async () => {
    const watcher = await stack.watcher(0);
    assert.equal((await watcher.watch('8201')).ok, true);

    // An earlier web queued these callbacks under the bare name; an earlier processor queued
    // a notification and a storage job the same way; its schedule is still in Redis.
    const callbacks = legacyQueue(QUEUES.callbacks);
    for (let n = 0; n < 3; n++) {
      const body = notificationBody(followPayload('8201', String(620000 + n)));
      await callbacks.add(
        JOBS.eventSubCallback,
        {
          messageId: `legacy-${n}`,
          messageType: 'notification',
          messageTimestamp: new Date().toISOString(),
          messageRetry: '0',
          subscriptionType: 'channel.follow',
          subscriptionVersion: '2',
          body,
          receivedAt: Date.now(),
        },
        { jobId: callbackJobId(`legacy-${n}`) },
      );
    }
    // A storage job of an event that was delivered live before the deploy.
    const stored = followPayload('8201', '620009');
    const event = {
      id: 'legacy-stored-1',
      ...normalizeEvent(stored.subscription, stored.event!, new Date().toISOString()),
    };
    await legacyQueue(QUEUES.persist).add(JOBS.persistEvents, {
      rows: [{ event, messageId: 'legacy-stored' }],
    });
    const maintenance = legacyQueue(QUEUES.maintenance);
    await maintenance.upsertJobScheduler(
      'daily-partitions',
      { pattern: '17 3 * * *' },
      { name: JOBS.maintainPartitions, data: {} },
    );

    // A callback processed by the new processor, its notification and storage jobs moved
    // back under the bare names, as an earlier processor would have left them.
    await stack.start('processor');
    await until(
      async () => (await callbacks.getCompletedCount()) === 3,
      'the legacy callbacks are processed',
    );
    const fourth = await follow(stack, '8201', '620003');
    assert.equal(fourth.status, 202);
    await until(
      async () => (await stack.queue(QUEUES.callbacks).getCompletedCount()) === 1,
      'the fourth callback is processed',
    );
    const notifyShard = stack.queue(QUEUES.notifications);
    const oldNotifications = legacyQueue(QUEUES.notifications);
    for (const job of await notifyShard.getWaiting()) {
      await job.remove();
      await oldNotifications.add(JOBS.notifyEvents, job.data as never);
    }
    assert.equal(await notifyShard.getWaitingCount(), 0);
    assert.ok((await oldNotifications.getWaitingCount()) > 0);

    await stack.start('emitter');
    await assertDeliveredOnce(watcher, 4);
    await assertStoredOnce(stack, ['8201'], 5);
    assert.equal((await stack.knex('events').where({ id: 'legacy-stored-1' })).length, 1);
    assert.deepEqual(
      await maintenance.getJobSchedulers(),
      [],
      'the bare maintenance schedule is gone',
    );
    assert.equal(
      (await stack.queue(QUEUES.maintenance).getJobSchedulers()).length,
      1,
      'the sharded maintenance schedule is there',
    );
    assert.equal(await oldNotifications.getWaitingCount(), 0);
    const processor = stack.processes.get('processor')!;
    await processor.waitForOutput(/unsharded queue twitchCallbacks is empty: stopped its worker/);
    await stack.processes
      .get('emitter')!
      .waitForOutput(/Draining \d+ job\(s\) left in the unsharded queue eventNotifications/);
  });
});
