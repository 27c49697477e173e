import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EVENTSUB_SECRET, QUEUES, type Stack } from '../helpers/stack.js';
import { startStackWithSimulator, waitUntil, type RunningSimulator } from '../helpers/simulator.js';
import { repoRoot } from '../helpers/processes.js';
import { deliver, followPayload, notificationBody } from '../helpers/twitch.js';
import { JOBS, enqueue } from '../../src/shared/queues.js';

const TOKEN = 'test-metrics-token-0123456789';
const PROCESSES = ['web', 'processor', 'emitter', 'realtime1', 'realtime2'];
const BROADCASTER = '7601';
const EVENTS = 12;

/** Prometheus text as `name{labels}` -> value, labels in the order the registry wrote them. */
function parseMetrics(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

/** The value of the one series of `name` whose labels include all of `labels`, or 0. */
function valueOf(series: Map<string, number>, name: string, labels: Record<string, string> = {}) {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const matches = [...series].filter(
    ([key]) =>
      (key === name || key.startsWith(`${name}{`)) && wanted.every((pair) => key.includes(pair)),
  );
  assert.ok(matches.length <= 1, `more than one series of ${name} matches ${wanted.join(',')}`);
  return matches[0]?.[1] ?? 0;
}

describe('metrics of every process type', function () {
  this.timeout(60_000);
  let stack: Stack;
  // Twitch's stand-in, so that the processor manages subscriptions and reports their cost.
  let sim: RunningSimulator;
  const url = (name: string) => `http://127.0.0.1:${stack.portOf(name)}/metrics`;
  const scrape = async (name: string) => {
    const response = await fetch(url(name), { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(response.status, 200, `${name}: ${response.status}`);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    return parseMetrics(await response.text());
  };

  before(async () => {
    ({ sim, stack } = await startStackWithSimulator({ env: { METRICS_TOKEN: TOKEN } }));
  });
  after(async () => {
    await stack?.stop();
    await sim?.close();
  });

  it('refuses the public and a wrong token on every process type', async () => {
    for (const name of PROCESSES) {
      const anonymous = await fetch(url(name));
      assert.equal(anonymous.status, 401, name);
      assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="metrics"');
      assert.doesNotMatch(await anonymous.text(), /streamfeed_|nodejs_/);
      const wrong = await fetch(url(name), { headers: { authorization: `Bearer ${TOKEN}x` } });
      assert.equal(wrong.status, 401, name);
      const basic = await fetch(url(name), { headers: { authorization: TOKEN } });
      assert.equal(basic.status, 401, name);
    }
  });

  it('shows the runtime and the health of Redis and PostgreSQL for each process type', async () => {
    for (const name of PROCESSES) {
      const series = await scrape(name);
      assert.ok(valueOf(series, 'nodejs_eventloop_lag_seconds') >= 0, name);
      assert.ok(valueOf(series, 'process_resident_memory_bytes') > 0, name);
      assert.equal(valueOf(series, 'streamfeed_dependency_up', { dependency: 'redis' }), 1, name);
    }
    for (const name of ['web', 'processor']) {
      const series = await scrape(name);
      assert.equal(valueOf(series, 'streamfeed_dependency_up', { dependency: 'postgres' }), 1);
    }
  });

  it('moves the pipeline series as events flow', async () => {
    const watchers = [await stack.watcher(0), await stack.watcher(1)];
    for (const watcher of watchers) assert.equal((await watcher.watch(BROADCASTER)).ok, true);
    const before = new Map(
      await Promise.all(PROCESSES.map(async (n) => [n, await scrape(n)] as const)),
    );

    const bodies = Array.from({ length: EVENTS }, (_, n) =>
      notificationBody(followPayload(BROADCASTER, String(760000 + n))),
    );
    const follow = (body: string) => ({
      body,
      subscriptionType: 'channel.follow',
      subscriptionVersion: '2',
    });
    for (let n = 0; n < EVENTS; n++) {
      assert.equal(
        (await deliver(stack.webhookUrl, EVENTSUB_SECRET, follow(bodies[n]!))).status,
        202,
      );
    }
    // The first follow again under a new message id, and one with a bad signature.
    const resent = await deliver(stack.webhookUrl, EVENTSUB_SECRET, follow(bodies[0]!));
    assert.equal(resent.status, 202);
    const forged = await deliver(stack.webhookUrl, 'not-the-secret-000', follow(bodies[1]!));
    assert.equal(forged.status, 403);
    for (const watcher of watchers) await watcher.waitFor(EVENTS);
    await new Promise((resolve) => setTimeout(resolve, 500));

    const after = new Map(
      await Promise.all(PROCESSES.map(async (n) => [n, await scrape(n)] as const)),
    );
    const moved = (name: string, metric: string, labels: Record<string, string> = {}) =>
      valueOf(after.get(name)!, metric, labels) - valueOf(before.get(name)!, metric, labels);

    assert.equal(
      moved('web', 'streamfeed_webhook_requests_total', { outcome: 'accepted' }),
      EVENTS + 1,
    );
    assert.equal(
      moved('web', 'streamfeed_webhook_requests_total', { outcome: 'bad_signature' }),
      1,
    );
    assert.equal(
      moved('web', 'streamfeed_http_request_duration_seconds_count', {
        area: 'webhooks',
        status: '2xx',
      }),
      EVENTS + 1,
    );
    assert.equal(
      moved('processor', 'streamfeed_events_processed_total', { type: 'channel.follow' }),
      EVENTS,
    );
    assert.equal(moved('processor', 'streamfeed_dedupe_hits_total', { kind: 'event' }), 1);
    assert.equal(
      moved('processor', 'streamfeed_job_run_seconds_count', {
        queue: 'twitchCallbacks',
        outcome: 'completed',
      }),
      EVENTS + 1,
    );
    assert.equal(
      moved('processor', 'streamfeed_job_wait_seconds_count', { queue: 'twitchCallbacks' }),
      EVENTS + 1,
    );
    assert.equal(
      valueOf(after.get('processor')!, 'streamfeed_queue_jobs', {
        queue: 'twitchCallbacks',
        state: 'failed',
      }),
      0,
    );
    assert.equal(moved('emitter', 'streamfeed_emits_total'), EVENTS);
    assert.equal(moved('emitter', 'streamfeed_event_lag_seconds_count'), EVENTS);
    assert.ok(valueOf(after.get('emitter')!, 'streamfeed_event_lag_seconds_sum') > 0);
    for (const node of ['realtime1', 'realtime2']) {
      assert.equal(valueOf(after.get(node)!, 'streamfeed_sockets_connected'), 1, node);
      assert.equal(valueOf(after.get(node)!, 'streamfeed_streamers_watched'), 1, node);
      assert.equal(moved(node, 'streamfeed_deliveries_total'), EVENTS, node);
    }
  });

  it('counts the jobs of every queue the processor works, the follow backfill too', async () => {
    const delayed = async (queue: string) =>
      valueOf(await scrape('processor'), 'streamfeed_queue_jobs', { queue, state: 'delayed' });
    const before = await delayed(QUEUES.backfill);
    // An hour away, so that the processor's backfill worker leaves it where it is.
    const [backfills] = stack.queues(QUEUES.backfill);
    await enqueue(
      backfills!,
      JOBS.backfillFollows,
      { broadcasterId: '7603', reason: 'manual' },
      { jobId: 'metrics-backfill', delay: 3_600_000 },
    );
    try {
      assert.equal(await delayed(QUEUES.backfill), before + 1);
      const queues = new Set(
        [...(await scrape('processor')).keys()]
          .filter((key) => key.startsWith('streamfeed_queue_jobs{'))
          .map((key) => /queue="([^"]+)"/.exec(key)?.[1]),
      );
      for (const queue of [
        QUEUES.callbacks,
        QUEUES.persist,
        QUEUES.maintenance,
        QUEUES.subscriptions,
        QUEUES.backfill,
      ]) {
        assert.ok(queues.has(queue), `processor reports no depth of ${queue}`);
      }
    } finally {
      await backfills!.remove('metrics-backfill');
    }
  });

  it('exports every series that the alert rules and the dashboard in docker/ use', async () => {
    // One event through the whole pipeline first, so that every labelled series exists.
    const watcher = await stack.watcher(0);
    assert.equal((await watcher.watch('7602')).ok, true);
    const body = notificationBody(followPayload('7602', '760100'));
    const sent = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
      body,
      subscriptionType: 'channel.follow',
      subscriptionVersion: '2',
    });
    assert.equal(sent.status, 202);
    await watcher.waitFor(1);
    // Twitch's cost budget, from the first Helix answer that has it (reconciliation's list).
    await waitUntil(
      async () => valueOf(await scrape('processor'), 'streamfeed_eventsub_max_total_cost') > 0,
      20_000,
      'the EventSub cost series',
    );
    const exported = new Set<string>();
    for (const name of PROCESSES) {
      for (const key of (await scrape(name)).keys()) exported.add(key.split('{')[0]!);
    }
    for (const file of [
      'docker/prometheus/alerts.yml',
      'docker/grafana/dashboards/streamfeed.json',
    ]) {
      const text = readFileSync(path.join(repoRoot, file), 'utf8');
      // Series names; a label such as process_type is followed by `=` (not `==`), `,` or `}`.
      const used = new Set(
        text.match(/\b(?:streamfeed|nodejs|process)_[a-z0-9_]+\b(?!\s*(?:=(?!=)|[},]))/g),
      );
      assert.ok(used.size >= 8, `${file} uses the series`);
      for (const series of used) {
        assert.ok(exported.has(series), `${file}: ${series} is not exported`);
      }
    }
  });
});
