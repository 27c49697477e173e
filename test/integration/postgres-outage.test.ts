import assert from 'node:assert/strict';
import { EVENTSUB_SECRET, QUEUES, startStack, type Stack } from '../helpers/stack.js';
import { waitUntil } from '../helpers/simulator.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { deliver, followPayload, notificationBody } from '../helpers/twitch.js';

const STREAMER = '9100';
const EVENTS = 40;

const follow = (n: number) =>
  notificationBody(followPayload(STREAMER, String(n), new Date(Date.UTC(2026, 10, 1, 0, 0, n))));

describe('PostgreSQL unavailable for a while', function () {
  this.timeout(90_000);
  let proxy: TcpProxy;
  let stack: Stack;

  before(async () => {
    proxy = await startTcpProxy(5432);
    stack = await startStack({
      databaseUrl: (url) => url.replace('127.0.0.1:5432', `127.0.0.1:${proxy.port}`),
    });
  });
  after(async () => {
    await stack?.stop();
    await proxy?.close();
  });

  it('keeps delivering live events while it is away, and stores every one once it is back', async () => {
    const watcher = await stack.watcher(1);
    assert.equal((await watcher.watch(STREAMER)).ok, true);
    await proxy.cut();

    const results = await Promise.all(
      Array.from({ length: EVENTS }, (_, n) =>
        deliver(stack.webhookUrl, EVENTSUB_SECRET, {
          body: follow(n),
          subscriptionType: 'channel.follow',
          subscriptionVersion: '2',
        }),
      ),
    );
    assert.ok(results.every((r) => r.status === 202));
    const live = await watcher.waitFor(EVENTS, () => true, 20_000);
    assert.equal(new Set(live.map((e) => e.id)).size, EVENTS, 'each event live, once');
    const rows = async () =>
      Number(
        (await stack.knex('events').where({ broadcaster_id: STREAMER }).count('* as n'))[0]!.n,
      );
    assert.equal(await rows(), 0, 'nothing could be stored while PostgreSQL was away');

    // Long enough for several failed attempts of every store job.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const persist = stack.queue(QUEUES.persist);
    assert.equal(await persist.getFailedCount(), 0, 'no store job gave up');
    assert.match(
      stack.processes.get('processor')!.output(),
      /Job persist-events? \S+ failed \(attempt \d+\), will retry: connect ECONNREFUSED/,
    );

    await proxy.restore();
    await waitUntil(async () => (await rows()) === EVENTS, 45_000, 'every event stored');
    assert.equal(await persist.getFailedCount(), 0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await rows(), EVENTS, 'and none twice');
    assert.equal(watcher.received.length, EVENTS, 'no live event repeated after the outage');
  });
});
