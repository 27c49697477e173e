import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { startStackWithSimulator, type RunningSimulator } from '../helpers/simulator.js';
import { QUEUES, type Stack } from '../helpers/stack.js';
import { Browser, logInThroughSimulator } from '../helpers/cookie-browser.js';
import { followEventIn, lockEventPartition } from '../helpers/locked-partition.js';
import { JOBS, PERSIST_JOB_OPTIONS, enqueue, queueShardName } from '../../src/shared/queues.js';
import { dashboardName } from '../../src/api/admin/queue-dashboard.js';
import { launchChromium } from '../helpers/browser.js';

const DASHBOARD = '/admin/queues';
const OPERATOR_ID = '424242001';
const LOCKED_MONTH = new Date(Date.UTC(2026, 6, 1));
/** What the dashboard calls each queue: the kind, and the shard for the sharded three. */
const DISPLAY_NAMES = [
  'eventNotifications, shard 0',
  'eventPersist, shard 0',
  'eventSubSubscriptions',
  'maintenance',
  'twitchCallbacks, shard 0',
];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the queue dashboard at /admin/queues', function () {
  this.timeout(60_000);
  let sim: RunningSimulator;
  let stack: Stack;
  let operator: Browser;

  before(async () => {
    ({ sim, stack } = await startStackWithSimulator({
      without: ['emitter', 'realtime'],
      env: {
        OPERATOR_LOGINS: 'night_ops, Day_Ops',
        OPERATOR_USER_IDS: `12, ${OPERATOR_ID}`,
        DATABASE_STATEMENT_TIMEOUT_MS: '1000',
        METRICS_TOKEN: 'dashboard-test-metrics-token',
      },
    }));
    operator = await logInThroughSimulator(stack.webUrl, 'day_ops');
  });
  after(async () => {
    await stack?.stop();
    await sim?.close();
  });

  it('refuses the public with 401 and a logged-in viewer who is no operator with 403', async () => {
    for (const path of [DASHBOARD, `${DASHBOARD}/api/queues`]) {
      const anonymous = await new Browser().get(`${stack.webUrl}${path}`);
      assert.equal(anonymous.status, 401, path);
      assert.equal(
        ((await anonymous.json()) as { error: { code: string } }).error.code,
        'login_required',
      );
    }
    const viewer = await logInThroughSimulator(stack.webUrl, 'just_a_viewer');
    for (const path of [DASHBOARD, `${DASHBOARD}/api/queues`]) {
      const refused = await viewer.get(`${stack.webUrl}${path}`);
      assert.equal(refused.status, 403, path);
      assert.equal(
        ((await refused.json()) as { error: { code: string } }).error.code,
        'not_operator',
      );
    }
    const retry = await viewer.get(`${stack.webUrl}${DASHBOARD}/api/queues/eventPersist/x/retry`, {
      method: 'PUT',
    });
    assert.equal(retry.status, 403);
    assert.match(
      stack.processes.get('web')!.output(),
      /Refused the queue dashboard to just_a_viewer/,
    );
    // Metrics are for the scraper's token only: no login opens them, an operator's included.
    for (const browser of [viewer, operator]) {
      assert.equal((await browser.get(`${stack.webUrl}/metrics`)).status, 401);
    }
  });

  it('lets in an operator by user id, after a rename too, and not whoever takes the old login', async () => {
    const user = sim.state.addUser('ops_by_id', { id: OPERATOR_ID });
    const queuesOf = async (login: string) =>
      (
        await (
          await logInThroughSimulator(stack.webUrl, login)
        ).get(`${stack.webUrl}${DASHBOARD}/api/queues`)
      ).status;
    assert.equal(await queuesOf('ops_by_id'), 200);
    user.login = 'ops_renamed';
    assert.equal(await queuesOf('ops_renamed'), 200, 'the same user id under a new login');
    assert.equal(await queuesOf('ops_by_id'), 403, 'a new user who claimed the old login');
    assert.match(
      stack.processes.get('web')!.output(),
      /OPERATOR_LOGINS lets in whoever holds those Twitch logins now/,
    );
  });

  it('shows an operator every queue, on a page of its own', async () => {
    const page = await operator.get(`${stack.webUrl}${DASHBOARD}`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /<base href="\/admin\/queues\/"/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self';/);
    const api = await operator.get(`${stack.webUrl}${DASHBOARD}/api/queues`);
    assert.equal(api.status, 200);
    const { queues } = (await api.json()) as {
      queues: Array<{ name: string; displayName: string }>;
    };
    const shards = Object.values(QUEUES).flatMap((kind) => stack.queues(kind).map((q) => q.name));
    assert.deepEqual(
      queues.map((q) => q.name).sort(),
      shards.sort(),
      'every shard of every queue (one shard each on a single Redis)',
    );
    assert.ok(shards.length >= 5);
    assert.deepEqual(queues.map((q) => q.displayName).sort(), shards.map(dashboardName).sort());
    for (const name of DISPLAY_NAMES) {
      assert.ok(
        queues.some((q) => q.displayName === name),
        `${name} is shown`,
      );
    }
  });

  it('renders for an operator in Chromium, under its Content-Security-Policy', async () => {
    const chromium = await launchChromium();
    try {
      const context = await chromium.newContext();
      await context.addCookies(
        [...operator.cookies].map(([name, value]) => ({ name, value, url: stack.webUrl })),
      );
      const page = await context.newPage();
      const refused: string[] = [];
      page.on('console', (message) => {
        // Fonts from the internet cannot load here; anything else refused is a CSP problem.
        if (/Content Security Policy/.test(message.text())) refused.push(message.text());
      });
      await page.goto(`${stack.webUrl}${DASHBOARD}`);
      for (const name of DISPLAY_NAMES) {
        await page.getByText(name, { exact: true }).first().waitFor({ timeout: 15_000 });
      }
      assert.deepEqual(refused, []);
    } finally {
      await chromium.close();
    }
  });

  it('lists a job that failed every attempt with its error, and retries it', async () => {
    const knex: Knex = stack.knex;
    const lock = await lockEventPartition(knex, LOCKED_MONTH);
    try {
      const event = followEventIn(LOCKED_MONTH, 1000, {
        eventId: 'ev_dashboard_retry',
        broadcasterId: '7701',
        userId: '770001',
      });
      const persist = stack.queue(QUEUES.persist);
      await enqueue(
        stack.queues(QUEUES.persist)[0]!,
        JOBS.persistEvent,
        { event, messageId: 'dashboard-retry' },
        { ...PERSIST_JOB_OPTIONS, attempts: 1, jobId: 'dashboard-retry' },
      );
      for (let i = 0; i < 100 && (await persist.getFailedCount()) === 0; i++) await sleep(100);

      const listed = await operator.get(
        `${stack.webUrl}${DASHBOARD}/api/queues?activeQueue=${encodeURIComponent(queueShardName(QUEUES.persist, 0))}&status=failed&page=1`,
      );
      assert.equal(listed.status, 200);
      const { queues } = (await listed.json()) as {
        queues: Array<{ name: string; jobs: Array<{ id: string; failedReason: string }> }>;
      };
      const failed = queues.find((q) => q.name === queueShardName(QUEUES.persist, 0))!.jobs;
      assert.deepEqual(
        failed.map((job) => job.id),
        ['dashboard-retry'],
      );
      assert.match(failed[0]!.failedReason, /statement timeout/);
    } finally {
      await lock.rollback();
    }

    const retried = await operator.get(
      `${stack.webUrl}${DASHBOARD}/api/queues/${encodeURIComponent(queueShardName(QUEUES.persist, 0))}/dashboard-retry/retry`,
      { method: 'PUT' },
    );
    assert.equal(retried.status, 204);
    let stored = 0;
    for (let i = 0; i < 100 && stored === 0; i++) {
      await sleep(100);
      stored = (await knex('events').where({ id: 'ev_dashboard_retry' })).length;
    }
    assert.equal(stored, 1, 'the retried job was processed');
    assert.equal(await stack.queue(QUEUES.persist).getFailedCount(), 0);
  });
});
