import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTestDatabase } from '../helpers/database.js';
import { startProcess } from '../helpers/processes.js';
import { EVENTSUB_SECRET, QUEUES, startStack, type Stack } from '../helpers/stack.js';
import { deliver, notificationBody } from '../helpers/twitch.js';

describe('process lifecycle', function () {
  this.timeout(90_000);

  it('refuses to start with bad configuration, one line per problem', async () => {
    const web = startProcess('web', 'web', {
      PORT: 'eighty',
      REDIS_URL: 'http://nope',
      TWITCH_EVENTSUB_SECRET: 'short',
    });
    assert.equal(await web.exited, 1);
    const lines = web.output().trim().split('\n');
    assert.match(lines[0]!, /cannot start, Invalid configuration/);
    for (const key of ['PORT', 'REDIS_URL', 'TWITCH_EVENTSUB_SECRET']) {
      assert.equal(
        lines.filter((l) => l.trim().startsWith(`${key}:`)).length,
        1,
        `${key} in:\n${web.output()}`,
      );
    }
  });

  it('runs the release process: migrations and partitions, then exit 0; and says why it cannot', async () => {
    const database = await createTestDatabase();
    try {
      const release = startProcess('release', 'release', {
        DATABASE_URL: database.url,
        TWITCH_EVENTSUB_SECRET: EVENTSUB_SECRET,
      });
      assert.equal(await release.exited, 0, release.output());
      assert.match(release.output(), /release done/);
      const again = startProcess('release', 'release', {
        DATABASE_URL: database.url,
        TWITCH_EVENTSUB_SECRET: EVENTSUB_SECRET,
      });
      assert.equal(await again.exited, 0, again.output());
    } finally {
      await database.drop();
    }
    const unreachable = startProcess('release', 'release', {
      DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/none',
      TWITCH_EVENTSUB_SECRET: EVENTSUB_SECRET,
    });
    assert.equal(await unreachable.exited, 1);
    assert.match(unreachable.output(), /cannot reach PostgreSQL at 127\.0\.0\.1:1/);
    assert.doesNotMatch(unreachable.output(), /hunter2/);
  });

  describe('SIGTERM', () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack();
    });
    after(async () => {
      await stack?.stop();
    });

    it('drains a processor mid-stream: it exits 0 holding no job, and a restart finishes the rest', async () => {
      const watcher = await stack.watcher(0);
      assert.equal((await watcher.watch('7001')).ok, true);
      const send = (n: number) =>
        deliver(stack.webhookUrl, EVENTSUB_SECRET, {
          body: notificationBody({
            subscription: {
              id: randomUUID(),
              type: 'channel.follow',
              version: '2',
              condition: { broadcaster_user_id: '7001' },
            },
            event: {
              user_id: String(n),
              user_login: `fan_${n}`,
              user_name: `Fan_${n}`,
              broadcaster_user_id: '7001',
              broadcaster_user_login: 'drain',
              broadcaster_user_name: 'Drain',
              followed_at: new Date(Date.UTC(2026, 0, 1) + n).toISOString(),
            },
          }),
          subscriptionType: 'channel.follow',
          subscriptionVersion: '2',
        });
      const sending = Array.from({ length: 300 }, (_, n) => send(n));
      await watcher.waitFor(20);
      const code = await stack.processes.get('processor')!.stop('SIGTERM');
      assert.equal(code, 0, stack.processes.get('processor')!.output().slice(-2000));
      assert.match(stack.processes.get('processor')!.output(), /Shutdown complete/);
      assert.ok((await Promise.all(sending)).every((r) => r.status === 202));
      assert.equal(
        await stack.queue(QUEUES.callbacks).getActiveCount(),
        0,
        'no job left locked by the stopped processor',
      );

      await stack.start('processor');
      await watcher.waitFor(300);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(watcher.received.length, 300);
      assert.equal(new Set(watcher.received.map((e) => e.id)).size, 300);
    });

    it('stops every process type with exit code 0 within 30 s', async () => {
      for (const name of ['web', 'processor', 'emitter', 'realtime1', 'realtime2']) {
        const started = Date.now();
        const code = await stack.processes.get(name)!.stop('SIGTERM');
        assert.equal(
          code,
          0,
          `${name} exit code\n${stack.processes.get(name)!.output().slice(-2000)}`,
        );
        assert.ok(Date.now() - started < 30_000, `${name} drained within 30 s`);
        assert.match(stack.processes.get(name)!.output(), /Shutdown complete/);
      }
    });
  });
});
