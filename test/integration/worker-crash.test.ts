import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { EVENTSUB_SECRET, QUEUES, startStack, type Stack } from '../helpers/stack.js';
import type { QueueName } from '../../src/shared/queues.js';
import { deliver, notificationBody } from '../helpers/twitch.js';
import { assertDeliveredOnce, assertStoredOnce } from '../helpers/exactly-once.js';

const TOTAL = 1000;

function followBody(broadcaster: string, n: number): string {
  return notificationBody(
    {
      subscription: {
        id: randomUUID(),
        type: 'channel.follow',
        version: '2',
        condition: { broadcaster_user_id: broadcaster, moderator_user_id: broadcaster },
      },
      event: {},
    },
    (e) =>
      Object.assign(e, {
        user_id: String(100000 + n),
        user_login: `fan_${n}`,
        user_name: `Fan_${n}`,
        broadcaster_user_id: broadcaster,
        broadcaster_user_login: 'crash_test',
        broadcaster_user_name: 'Crash_Test',
        followed_at: new Date(Date.UTC(2026, 10, 1) + n * 1000).toISOString(),
      }),
  );
}

// Each worker type, killed a third of the way through, and the queue it leaves work on.
const VICTIMS: Array<[name: string, queue: QueueName, broadcaster: string]> = [
  ['processor', QUEUES.callbacks, '6001'],
  ['emitter', QUEUES.notifications, '6002'],
];

for (const [victim, victimQueue, broadcaster] of VICTIMS) {
  describe(`the ${victim} killed with SIGKILL mid-stream`, function () {
    this.timeout(180_000);
    let stack: Stack;

    before(async () => {
      stack = await startStack();
    });
    after(async () => {
      await stack?.stop();
    });

    it('stores and delivers every one of 1,000 events exactly once after a restart', async () => {
      const watchers = [await stack.watcher(0), await stack.watcher(1)];
      for (const w of watchers) assert.equal((await w.watch(broadcaster)).ok, true);

      let acknowledged = 0;
      let killed = false;
      const send = async (n: number) => {
        const result = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
          body: followBody(broadcaster, n),
          subscriptionType: 'channel.follow',
          subscriptionVersion: '2',
        });
        assert.equal(result.status, 202, result.body);
        acknowledged++;
        if (!killed && acknowledged >= TOTAL / 3) {
          killed = true;
          await stack.processes.get(victim)!.stop('SIGKILL');
        }
      };
      // Eight concurrent senders, like Twitch's parallel deliveries.
      const next = { n: 0 };
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next.n < TOTAL) await send(next.n++);
        }),
      );
      assert.equal(acknowledged, TOTAL);
      assert.ok(killed);
      const pending = await stack.queue(victimQueue).getJobCounts('waiting', 'active');
      assert.ok(
        (pending.waiting ?? 0) + (pending.active ?? 0) > 0,
        'the kill left work behind for the restart',
      );

      await stack.start(victim);
      for (const watcher of watchers) await assertDeliveredOnce(watcher, TOTAL);
      await assertStoredOnce(stack, [broadcaster], TOTAL);
      assert.equal(await stack.queue(QUEUES.callbacks).getFailedCount(), 0);
      assert.equal(await stack.queue(QUEUES.notifications).getFailedCount(), 0);
    });
  });
}
