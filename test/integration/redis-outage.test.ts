import assert from 'node:assert/strict';
import { callbackJobId } from '../../src/api/webhooks/eventsub-intake.js';
import { EVENTSUB_SECRET, QUEUES, startStack, type Stack } from '../helpers/stack.js';
import { startPrivateRedis } from '../helpers/private-redis.js';
import { deliver, followPayload, notificationBody } from '../helpers/twitch.js';
import { waitUntil } from '../helpers/simulator.js';

const STREAMER = '9200';

describe('Redis killed during intake, with append-only persistence', function () {
  this.timeout(120_000);
  let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
  let stack: Stack;

  before(async () => {
    redis = await startPrivateRedis();
    stack = await startStack({
      redisUrl: redis.url,
      without: ['processor', 'emitter', 'realtime'],
    });
  });
  after(async () => {
    await redis?.start().catch(() => undefined);
    await stack?.stop();
    await redis?.destroy();
  });

  it('answers 503 while Redis is away, 2xx once it is back, and loses no acknowledged message', async () => {
    const acknowledged: string[] = [];
    const statuses: number[] = [];
    const stopAt = 40;
    const restartAt = 80;
    for (let n = 0; n < 120; n++) {
      if (n === stopAt) await redis.stop('SIGKILL');
      if (n === restartAt) {
        await redis.start();
        // Give the web process's client time to notice that Redis is back.
        for (let i = 0; i < 50; i++) {
          const probe = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
            body: notificationBody(followPayload(STREAMER, `probe-${i}`)),
            subscriptionType: 'channel.follow',
            subscriptionVersion: '2',
          });
          if (probe.status === 202) {
            acknowledged.push(probe.messageId);
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      const result = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
        body: notificationBody(followPayload(STREAMER, String(n))),
        subscriptionType: 'channel.follow',
        subscriptionVersion: '2',
      });
      statuses.push(result.status);
      assert.ok(
        result.status === 202 || result.status === 503,
        `status ${result.status}: ${result.body}`,
      );
      if (result.status === 202) acknowledged.push(result.messageId);
      else assert.equal(result.body.includes('"code":"unavailable"'), true);
    }
    assert.ok(
      statuses.slice(0, 40).every((s) => s === 202),
      'accepted before the outage',
    );
    assert.ok(
      statuses.slice(40, 80).every((s) => s === 503),
      'refused during the outage',
    );
    assert.ok(
      statuses.slice(80).every((s) => s === 202),
      'accepted after the outage',
    );

    const queue = stack.queue(QUEUES.callbacks);
    for (const messageId of acknowledged) {
      assert.ok(
        await queue.getJob(callbackJobId(messageId)),
        `acknowledged message ${messageId} is queued`,
      );
    }
    assert.equal(await queue.getWaitingCount(), acknowledged.length);

    // The work queued before the kill survived it: a processor started now handles all of it.
    await stack.start('processor');
    await waitUntil(
      async () => (await queue.getCompletedCount()) === acknowledged.length,
      30_000,
      'every acknowledged callback processed',
    );
    assert.equal(await queue.getFailedCount(), 0);
    await waitUntil(
      async () =>
        (await stack.knex('events').where({ broadcaster_id: STREAMER })).length ===
        acknowledged.length,
      30_000,
      'every acknowledged event stored once',
    );
  });
});
