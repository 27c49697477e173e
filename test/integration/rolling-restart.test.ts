import assert from 'node:assert/strict';
import { EVENTSUB_SECRET, QUEUES, startStack, type Stack, type Watcher } from '../helpers/stack.js';
import { deliver, followPayload, notificationBody } from '../helpers/twitch.js';
import { sendLikeTwitch } from '../helpers/twitch-sender.js';
import {
  startHttpLoadBalancer,
  startLoadBalancer,
  type LoadBalancer,
} from '../helpers/load-balancer.js';
import { assertDeliveredOnce, assertStoredOnce } from '../helpers/exactly-once.js';
import { onCluster } from '../helpers/topology.js';

// The six stops and starts take 12-13 s on a quiet 2-core machine, and a second more each on a
// cluster (docs/RELIABILITY.md): the stream is long enough for the restart to end within it.
const TOTAL = onCluster ? 4200 : 3000;
const RATE = 150;
// 12 streamers, so each gets 12.5 events/s: a viewer who reconnects catches up from the feed
// cache's last 50 events per streamer (CACHED_EVENTS), which then covers 4 s away. At 25/s
// (6 streamers) a slow reconnect on a loaded CI machine once outran it (docs/RELIABILITY.md).
// On a cluster, where a realtime node takes about a second longer to come back, 24 streamers
// (8 s): with 12, one run's watcher came back after its cache window and missed 33 events,
// which the event page would have read from the REST API and this watcher does not.
const STREAMERS = Array.from({ length: onCluster ? 24 : 12 }, (_, i) => String(7201 + i));
// One at a time, each back and ready before the next goes, as a platform's rolling restart does.
const ROLLING_ORDER = ['web', 'web2', 'processor', 'emitter', 'realtime1', 'realtime2'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a rolling restart of every process type with SIGTERM under load', function () {
  this.timeout(180_000);
  let stack: Stack;
  const balancers: LoadBalancer[] = [];

  before(async () => {
    stack = await startStack({
      env: {
        WEB_DRAIN_MS: '1000',
        REALTIME_MAX_WATCHES_PER_CONNECTION: String(STREAMERS.length),
      },
    });
    await stack.startWebNode('web2');
    const checks = { healthPath: '/readyz', checkEveryMs: 100 };
    balancers.push(
      await startHttpLoadBalancer([stack.portOf('web'), stack.portOf('web2')], checks),
      await startLoadBalancer([stack.portOf('realtime1'), stack.portOf('realtime2')], checks),
    );
  });
  after(async () => {
    await stack?.stop();
    await Promise.all(balancers.map((b) => b.close()));
  });

  it('gives Twitch no 5xx and no timeouts, and loses or doubles nothing', async () => {
    const [webBalancer, realtimeBalancer] = balancers as [LoadBalancer, LoadBalancer];
    const watchers: Watcher[] = [];
    for (let i = 0; i < 4; i++) {
      const watcher = await stack.watcher(realtimeBalancer.url, `viewer-${i}`, { reconnect: true });
      for (const id of STREAMERS) assert.equal((await watcher.watch(id)).ok, true);
      watchers.push(watcher);
    }

    const exitCodes = new Map<string, number | null>();
    let acknowledged = 0;
    let restartedBy: number | undefined;
    let rolling: Promise<void> | undefined;
    const report = await sendLikeTwitch({
      webhookUrl: `${webBalancer.url}/webhooks/twitch`,
      secret: EVENTSUB_SECRET,
      payloads: Array.from({ length: TOTAL }, (_, n) =>
        followPayload(
          STREAMERS[n % STREAMERS.length]!,
          String(300000 + n),
          new Date(Date.UTC(2026, 10, 1) + n * 1000),
        ),
      ),
      concurrency: 8,
      ratePerSecond: RATE,
      timeoutMs: 5000,
      onAcknowledged: (count) => {
        acknowledged = count;
        if (count !== 150) return;
        rolling = (async () => {
          for (const name of ROLLING_ORDER) {
            exitCodes.set(name, await stack.processes.get(name)!.stop('SIGTERM'));
            await stack.start(name);
            await sleep(300); // long enough for the balancers' health checks to see it back
          }
          restartedBy = acknowledged;
        })();
      },
    });
    await rolling;

    assert.ok(restartedBy !== undefined && restartedBy < TOTAL, 'the restart ended mid-stream');
    assert.deepEqual(
      Object.fromEntries(exitCodes),
      Object.fromEntries(ROLLING_ORDER.map((name) => [name, 0])),
      'every process shut down cleanly',
    );
    assert.deepEqual(report.unanswered, [], 'every delivery was answered in time');
    assert.deepEqual([...report.statuses.keys()], [202], 'every delivery was accepted first time');
    assert.equal(report.acknowledged, TOTAL);
    for (const watcher of watchers) await assertDeliveredOnce(watcher, TOTAL);
    assert.ok(
      watchers.every((w) => w.reconnects >= 1),
      'every viewer was moved at least once',
    );
    await assertStoredOnce(stack, STREAMERS, TOTAL);
    for (const queue of [QUEUES.callbacks, QUEUES.notifications]) {
      assert.equal(await stack.queue(queue).getFailedCount(), 0, `no failed ${queue} job`);
    }
  });
});

describe('web on SIGTERM with WEB_DRAIN_MS', function () {
  this.timeout(60_000);
  let stack: Stack;

  before(async () => {
    stack = await startStack({
      env: { WEB_DRAIN_MS: '3000' },
      without: ['processor', 'emitter', 'realtime'],
    });
  });
  after(async () => {
    await stack?.stop();
  });

  it('keeps serving while failing /readyz and closing each connection, then exits 0', async () => {
    assert.equal((await fetch(`${stack.webUrl}/readyz`)).status, 200);
    const web = stack.processes.get('web')!;
    web.child.kill('SIGTERM');
    await web.waitForOutput(/Draining for 3000 ms/);

    const readiness = await fetch(`${stack.webUrl}/readyz`);
    assert.equal(readiness.status, 503);
    assert.deepEqual(await readiness.json(), { ok: false, checks: { shutdown: 'draining' } });
    assert.equal(readiness.headers.get('connection'), 'close');
    const webhook = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
      body: notificationBody(followPayload('7501', '500001')),
      subscriptionType: 'channel.follow',
      subscriptionVersion: '2',
    });
    assert.equal(webhook.status, 202, 'a webhook during the drain is still taken');
    assert.equal(await stack.queue(QUEUES.callbacks).getWaitingCount(), 1);

    assert.equal(await web.exited, 0);
    await assert.rejects(fetch(`${stack.webUrl}/healthz`), 'the port is closed after the drain');
  });
});
