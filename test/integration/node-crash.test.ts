import assert from 'node:assert/strict';
import { EVENTSUB_SECRET, QUEUES, startStack, type Stack, type Watcher } from '../helpers/stack.js';
import { followPayload } from '../helpers/twitch.js';
import { sendLikeTwitch } from '../helpers/twitch-sender.js';
import { startLoadBalancer, type LoadBalancer } from '../helpers/load-balancer.js';
import { assertDeliveredOnce, assertStoredOnce } from '../helpers/exactly-once.js';

const TOTAL = 600;
// 12 streamers, so each gets 12.5 events/s: a viewer who reconnects catches up from the feed
// cache's last 50 events per streamer (CACHED_EVENTS), which then covers 4 s away. At 25/s
// (6 streamers) a slow reconnect on a loaded CI machine once outran it (docs/RELIABILITY.md).
const STREAMERS = Array.from({ length: 12 }, (_, i) => String(7101 + i));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A steady stream over several streamers: 100 follows each, one user id per follow. */
const followStream = () =>
  Array.from({ length: TOTAL }, (_, n) =>
    followPayload(
      STREAMERS[n % STREAMERS.length]!,
      String(200000 + n),
      new Date(Date.UTC(2026, 10, 1) + n * 1000),
    ),
  );

async function watchAll(watcher: Watcher) {
  for (const id of STREAMERS) assert.equal((await watcher.watch(id)).ok, true);
}

/** The steady stream, sent like Twitch; `victim` gets SIGKILL a third of the way in, and 1 s later is started again. */
async function streamWithKill(stack: Stack, victim: string) {
  let outage: Promise<void> | undefined;
  const report = await sendLikeTwitch({
    webhookUrl: stack.webhookUrl,
    secret: EVENTSUB_SECRET,
    payloads: followStream(),
    concurrency: 8,
    ratePerSecond: 150,
    onAcknowledged: (count) => {
      if (count !== TOTAL / 3) return;
      outage = (async () => {
        await stack.processes.get(victim)!.stop('SIGKILL');
        await sleep(1000);
        await stack.start(victim);
      })();
    },
  });
  await outage;
  return report;
}

describe('web killed with SIGKILL mid-stream', function () {
  this.timeout(120_000);
  let stack: Stack;

  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('stores and delivers every event once after Twitch retries what went unanswered', async () => {
    const watchers = [await stack.watcher(0), await stack.watcher(1)];
    for (const watcher of watchers) await watchAll(watcher);

    const report = await streamWithKill(stack, 'web');

    assert.equal(report.acknowledged, TOTAL);
    assert.ok(report.unanswered.length > 0, 'the kill left Twitch without answers to retry');
    for (const watcher of watchers) await assertDeliveredOnce(watcher, TOTAL);
    await assertStoredOnce(stack, STREAMERS, TOTAL);
    assert.equal(await stack.queue(QUEUES.callbacks).getFailedCount(), 0);
  });
});

describe('a realtime node killed with SIGKILL mid-stream', function () {
  this.timeout(120_000);
  let stack: Stack;
  let balancer: LoadBalancer;

  before(async () => {
    stack = await startStack();
    balancer = await startLoadBalancer([stack.portOf('realtime1'), stack.portOf('realtime2')], {
      healthPath: '/readyz',
    });
  });
  after(async () => {
    await stack?.stop();
    await balancer?.close();
  });

  it('moves its viewers to the other node, where they catch up without gaps or repeats', async () => {
    // Through the balancer, as browsers reach the fleet: the four viewers land on both nodes.
    const watchers: Watcher[] = [];
    for (let i = 0; i < 4; i++) {
      const watcher = await stack.watcher(balancer.url, `viewer-${i}`, { reconnect: true });
      await watchAll(watcher);
      watchers.push(watcher);
    }
    const onKilledNode = balancer.handedTo.get(stack.portOf('realtime1'))!;
    assert.ok(onKilledNode > 0, 'some viewers were on the node that is killed');

    const report = await streamWithKill(stack, 'realtime1');

    assert.equal(report.acknowledged, TOTAL);
    const reconnects = watchers.reduce((sum, w) => sum + w.reconnects, 0);
    assert.equal(reconnects, onKilledNode, 'each viewer of the killed node reconnected once');
    for (const watcher of watchers) await assertDeliveredOnce(watcher, TOTAL);
    await assertStoredOnce(stack, STREAMERS, TOTAL);
  });
});
