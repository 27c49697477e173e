import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { EVENTSUB_SECRET, QUEUES, startStack, type Stack } from '../helpers/stack.js';
import { deliver, notificationBody } from '../helpers/twitch.js';

const TOTAL = 1000;
const BROADCASTER = '6001';

function followBody(n: number): string {
  return notificationBody(
    {
      subscription: {
        id: randomUUID(),
        type: 'channel.follow',
        version: '2',
        condition: { broadcaster_user_id: BROADCASTER, moderator_user_id: BROADCASTER },
      },
      event: {},
    },
    (e) =>
      Object.assign(e, {
        user_id: String(100000 + n),
        user_login: `fan_${n}`,
        user_name: `Fan_${n}`,
        broadcaster_user_id: BROADCASTER,
        broadcaster_user_login: 'crash_test',
        broadcaster_user_name: 'Crash_Test',
        followed_at: new Date(Date.UTC(2026, 10, 1) + n * 1000).toISOString(),
      }),
  );
}

describe('a processor killed with SIGKILL mid-stream', function () {
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
    for (const w of watchers) assert.equal((await w.watch(BROADCASTER)).ok, true);

    let acknowledged = 0;
    let killed = false;
    const send = async (n: number) => {
      const result = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
        body: followBody(n),
        subscriptionType: 'channel.follow',
        subscriptionVersion: '2',
      });
      assert.equal(result.status, 202, result.body);
      acknowledged++;
      if (!killed && acknowledged >= TOTAL / 3) {
        killed = true;
        await stack.processes.get('processor')!.stop('SIGKILL');
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
    const pending = await stack.queue(QUEUES.callbacks).getJobCounts('waiting', 'active');
    assert.ok(
      (pending.waiting ?? 0) + (pending.active ?? 0) > 0,
      'the kill left work behind for the restart',
    );

    await stack.start('processor');
    for (const watcher of watchers) {
      await watcher.waitFor(TOTAL, () => true, 90_000);
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const watcher of watchers) {
      const logins = watcher.received.map((e) => e.actor?.login);
      assert.equal(watcher.received.length, TOTAL, 'nothing delivered twice');
      assert.equal(new Set(logins).size, TOTAL, 'every follower delivered');
    }
    let stored = 0;
    for (let i = 0; i < 200 && stored < TOTAL; i++) {
      stored = Number(
        (
          await stack
            .knex('events')
            .where({ broadcaster_id: BROADCASTER })
            .count<{ count: string }[]>('* as count')
        )[0]!.count,
      );
      if (stored < TOTAL) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(stored, TOTAL);
    const failed = await stack.queue(QUEUES.callbacks).getFailedCount();
    assert.equal(failed, 0);
  });
});
