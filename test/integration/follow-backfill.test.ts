import assert from 'node:assert/strict';
import type { Browser as Chromium, Page } from 'playwright-core';
import type { Job } from 'bullmq';
import type { Stack } from '../helpers/stack.js';
import { QUEUES } from '../helpers/stack.js';
import { simEvent, waitUntil, type RunningSimulator } from '../helpers/simulator.js';
import { logInOnPage, startPageSuite, type PageSuite } from '../helpers/page-suite.js';
import { Browser, logInAsStreamer, logInThroughSimulator } from '../helpers/cookie-browser.js';
import { callbackJobId } from '../../src/api/webhooks/eventsub-intake.js';
import { JOBS } from '../../src/shared/queues.js';
import type { StreamEvent } from '../../src/shared/events/event.js';

const PROCESSES = ['web', 'processor', 'emitter', 'realtime1', 'realtime2'];
const FANS = Array.from({ length: 50 }, (_, i) => `bf_fan_${String(i).padStart(2, '0')}`);

interface Me {
  id: string;
  backfill: {
    status: string;
    lastRun: { status: string; added: number; fetched: number } | null;
  } | null;
}

describe('follow backfill after downtime (real processes, simulator, Chromium)', function () {
  this.timeout(180_000);
  let suite: PageSuite;
  let sim: RunningSimulator;
  let stack: Stack;
  let chromium: Chromium;
  let page: Page;
  let streamerId: string;

  const follows = async (broadcasterId: string, logins: string[], deliver: boolean) => {
    const response = await fetch(`${sim.url}/sim/follows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ broadcasterId, logins, deliver }),
    });
    assert.equal(response.status, 200);
    return (await response.json()) as {
      events: Array<Record<string, string>>;
      deliveries: Array<{ delivered: boolean; messageId: string }>;
    };
  };
  const followSub = (broadcasterId: string) =>
    [...sim.state.subscriptions.values()].find(
      (s) => s.type === 'channel.follow' && s.condition.broadcaster_user_id === broadcasterId,
    );
  const storedFollows = (broadcasterId: string) =>
    stack
      .knex('events')
      .where({ broadcaster_id: broadcasterId, type: 'channel.follow' })
      .orderBy('seq', 'asc')
      .select<Array<{ id: string; actor: { login: string }; backfilled: boolean | null }>>(
        'id',
        'actor',
        'backfilled',
      );
  const shownIds = () =>
    page.$$eval('#events li', (items) => items.map((li) => (li as HTMLElement).dataset.id!));
  /** Runs one backfill job now and returns what it reported. */
  const backfillNow = async (broadcasterId: string) => {
    const [queue] = stack.queues(QUEUES.backfill);
    const job = await queue!.add(JOBS.backfillFollows, { broadcasterId, reason: 'manual' });
    let done: Job | undefined;
    await waitUntil(
      async () => {
        done = await queue!.getJob(job.id!);
        return done?.finishedOn !== undefined;
      },
      20_000,
      'the backfill job',
    );
    assert.equal(done!.failedReason, undefined, done!.failedReason);
    return done!.returnvalue as { status: string; fetched: number; added: number };
  };
  const connectChannel = (login: string, browser = new Browser()) =>
    logInAsStreamer(stack.webUrl, login, browser);
  const meOf = async (browser: Browser) =>
    (await (await browser.get(`${stack.webUrl}/api/me`)).json()) as Me;

  before(async () => {
    suite = await startPageSuite({
      // Waves on, as in production: 50 backfilled follows at once must still be 50 rows.
      env: { BACKFILL_DELAY_SECONDS: '1', FOLLOW_WAVE_THRESHOLD: '20' },
    });
    ({ sim, stack, browser: chromium } = suite);
    page = await chromium.newPage({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await suite?.stop();
  });

  it('a streamer who connected their channel sees that missed follows will be fetched', async () => {
    await page.goto(`${stack.webUrl}/auth/twitch/streamer`);
    await page.getByPlaceholder('new_login').fill('bf_streamer');
    await page.getByRole('button', { name: 'Authorize' }).click();
    await page.getByLabel('Twitch login').fill('bf_streamer');
    await page.getByRole('button', { name: 'Watch' }).click();
    await page.getByRole('heading', { name: 'bf_streamer' }).waitFor();
    streamerId = sim.state.userByLogin('bf_streamer')!.id;
    await waitUntil(
      () => followSub(streamerId)?.status === 'enabled',
      20_000,
      'the follow subscription',
    );
    const line = page.locator('#backfill-status[data-status="ready"]');
    await line.waitFor();
    assert.match((await line.textContent())!, /fetched from Twitch when it is back/);

    const live = await follows(streamerId, ['bf_early_1', 'bf_early_2'], true);
    assert.deepEqual(
      live.deliveries.map((d) => d.delivered),
      [true, true],
    );
    await page.locator('#connection[data-state="live"]').waitFor();
    await waitUntil(async () => (await shownIds()).length === 2, 15_000, 'the two live follows');
  });

  it('50 follows made while every process was stopped appear once each, in order, marked', async () => {
    await Promise.all(PROCESSES.map((name) => stack.processes.get(name)!.stop('SIGTERM')));
    await page.locator('#connection:not([data-state="live"])').waitFor();
    // Twitch tries to deliver, fails, and gives the subscription up, as it would.
    const missed = await follows(streamerId, FANS, true);
    assert.ok(missed.deliveries.every((d) => !d.delivered));
    assert.equal(followSub(streamerId)?.status, 'notification_failures_exceeded');
    const before = await shownIds();

    await Promise.all(PROCESSES.map((name) => stack.start(name)));
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 60_000 });
    await waitUntil(
      async () => (await shownIds()).length === before.length + 50,
      45_000,
      'the 50 missed follows on the page',
    );
    const shown = await shownIds();
    assert.equal(new Set(shown).size, shown.length, 'no row twice');
    assert.deepEqual(shown.slice(50), before, 'the earlier follows below, as they were');
    const marked = await page.$$eval('#events li', (items) =>
      items.map((li) => (li as HTMLElement).dataset.backfilled === 'true'),
    );
    assert.deepEqual(marked, [...Array<boolean>(50).fill(true), false, false]);
    const summaries = await page.$$eval('#events li .summary', (items) =>
      items.map((s) => s.textContent),
    );
    assert.deepEqual(
      summaries.slice(0, 50),
      [...FANS].reverse().map((fan) => `${fan} followed`),
      'newest on top, in the order they followed',
    );

    const api = (await (
      await fetch(`${stack.webUrl}/api/streamers/${streamerId}/events?limit=60`)
    ).json()) as { events: StreamEvent[] };
    assert.deepEqual(
      api.events.map((e) => e.id),
      shown,
    );
    assert.deepEqual(
      api.events.map((e) => e.backfilled ?? false),
      marked,
    );
    await waitUntil(
      async () => (await storedFollows(streamerId)).length === 52,
      15_000,
      '52 follows stored',
    );
    const stored = await storedFollows(streamerId);
    assert.deepEqual(
      stored.map((r) => r.actor.login),
      ['bf_early_1', 'bf_early_2', ...FANS],
      'stored once each, in followed_at order',
    );
    assert.deepEqual(
      stored.map((r) => r.backfilled === true),
      [false, false, ...Array<boolean>(50).fill(true)],
    );
    const runs = await stack.queue(QUEUES.backfill).getJobs(['completed']);
    assert.ok(runs.some((j) => (j.data as { reason: string }).reason === 'processor-start'));
    assert.equal(
      runs.reduce((sum, j) => sum + (j.returnvalue as { added: number }).added, 0),
      50,
      'the runs after the restart added the 50 between them, once',
    );

    await page.reload();
    const line = page.locator('#backfill-status[data-status="ready"]');
    await line.waitFor();
    assert.match((await line.textContent())!, /last time: 50 added/);
  });

  it('backfills what a revoked subscription missed once it is re-created', async () => {
    const backfills = stack.queue(QUEUES.backfill);
    // After the restart reconciliation brings the subscription Twitch gave up back.
    await stack.queues(QUEUES.subscriptions)[0]!.add(JOBS.reconcileSubscriptions, {});
    await waitUntil(
      () => followSub(streamerId)?.status === 'enabled',
      20_000,
      'the follow subscription re-created',
    );
    await waitUntil(
      async () => (await backfills.getJobs(['waiting', 'delayed', 'active'])).length === 0,
      20_000,
      'the backfills after the restart done',
    );
    const runsBefore = (await backfills.getJobs(['completed'])).length;
    // Twitch revokes it (streamfeed hears that), and three follows happen while it is gone.
    await sim.delivery.revoke(followSub(streamerId)!, 'notification_failures_exceeded');
    await waitUntil(
      async () =>
        (
          await stack
            .knex('eventsub_subscriptions')
            .where({ broadcaster_id: streamerId, type: 'channel.follow' })
            .first<{ status: string } | undefined>('status')
        )?.status === 'notification_failures_exceeded',
      15_000,
      'the revocation recorded',
    );
    const unheard = ['bf_revoked_1', 'bf_revoked_2', 'bf_revoked_3'];
    const made = await follows(streamerId, unheard, true);
    assert.deepEqual(made.deliveries, [], 'no subscription to deliver them to');

    await stack.queues(QUEUES.subscriptions)[0]!.add(JOBS.reconcileSubscriptions, {});
    let recreated: Job | undefined;
    await waitUntil(
      async () => {
        const runs = await backfills.getJobs(['completed']);
        recreated = runs.find(
          (j) => (j.data as { reason: string }).reason === 'subscription-recreated',
        );
        return runs.length > runsBefore && recreated !== undefined;
      },
      30_000,
      'a backfill after the re-creation',
    );
    assert.equal(followSub(streamerId)?.status, 'enabled');
    assert.equal((recreated!.returnvalue as { added: number }).added, 3);
    await waitUntil(
      async () => (await storedFollows(streamerId)).length === 55,
      15_000,
      'the three stored',
    );
    const stored = await storedFollows(streamerId);
    assert.deepEqual(
      stored.slice(52).map((r) => [r.actor.login, r.backfilled]),
      unheard.map((login) => [login, true]),
    );
    await waitUntil(async () => (await shownIds()).length === 13, 15_000, 'the page');
  });

  it('a follow delivered live and listed by Helix is one event, whichever comes first', async () => {
    // Live first, then Helix lists it (to the second, where EventSub gave nanoseconds).
    const live = await follows(streamerId, ['bf_live_first'], true);
    assert.deepEqual(
      live.deliveries.map((d) => d.delivered),
      [true],
    );
    await waitUntil(
      async () => (await storedFollows(streamerId)).length === 56,
      15_000,
      'the live follow stored',
    );
    const again = await backfillNow(streamerId);
    assert.equal(again.status, 'done');
    assert.ok(again.fetched >= 1, 'Helix listed the live follow');
    assert.equal(again.added, 0, 'and it was recognised as the same follow');

    // Helix first (its webhook lost), then the webhook arrives after all.
    const quiet = await follows(streamerId, ['bf_helix_first'], false);
    assert.equal((await backfillNow(streamerId)).added, 1);
    await waitUntil(
      async () => (await storedFollows(streamerId)).length === 57,
      15_000,
      'the backfilled follow stored',
    );
    const late = await simEvent(sim, {
      type: 'channel.follow',
      broadcasterId: streamerId,
      userLogin: 'bf_helix_first',
      overrides: { followed_at: quiet.events[0]!.followed_at },
    });
    assert.deepEqual(
      late.map((d) => d.delivered),
      [true],
    );
    const jobId = callbackJobId(late[0]!.messageId);
    let callback: Job | undefined;
    await waitUntil(
      async () => {
        callback = await stack.queue(QUEUES.callbacks).getJob(jobId);
        return callback?.finishedOn !== undefined;
      },
      15_000,
      'the late webhook processed',
    );
    assert.deepEqual(callback!.returnvalue, { duplicate: true, events: [] });

    const stored = await storedFollows(streamerId);
    const of = (login: string) => stored.filter((r) => r.actor.login === login);
    assert.equal(of('bf_live_first').length, 1);
    assert.equal(of('bf_live_first')[0]!.backfilled, null);
    assert.equal(of('bf_helix_first').length, 1);
    assert.equal(of('bf_helix_first')[0]!.backfilled, true);
    assert.equal(new Set(stored.map((r) => r.id)).size, stored.length);
    await waitUntil(async () => (await shownIds()).length === 15, 15_000, 'the page');
    const shown = await shownIds();
    assert.equal(new Set(shown).size, shown.length, 'no row twice on the page');
  });

  it('without the consent there is no backfill, and the streamer is told so', async () => {
    // A streamer who never connected their channel, whom a viewer (they) follows.
    const context = await chromium.newContext();
    const plainPage = await context.newPage();
    try {
      await logInOnPage(plainPage, stack.webUrl, 'bf_plain');
      await plainPage.getByLabel('Twitch login').fill('bf_plain');
      await plainPage.getByRole('button', { name: 'Watch' }).click();
      const line = plainPage.locator('#backfill-status[data-status="no_consent"]');
      await line.waitFor();
      assert.match((await line.textContent())!, /are not fetched/);
      assert.equal(
        await line.getByRole('link', { name: 'Connect your channel' }).getAttribute('href'),
        '/auth/twitch/streamer',
      );
    } finally {
      await context.close();
    }
    const plain = sim.state.userByLogin('bf_plain')!;
    await follows(plain.id, ['bf_plain_fan_1', 'bf_plain_fan_2'], false);
    assert.deepEqual(await backfillNow(plain.id), { status: 'no_consent', fetched: 0, added: 0 });
    assert.equal((await storedFollows(plain.id)).length, 0);

    // A streamer who connected, then logged in again without the scope: Helix gives only total.
    const browser = await connectChannel('bf_scopeless');
    const scopeless = sim.state.userByLogin('bf_scopeless')!;
    assert.equal((await meOf(browser)).backfill?.status, 'ready');
    await logInThroughSimulator(stack.webUrl, 'bf_scopeless', browser);
    await waitUntil(() => followSub(scopeless.id)?.status === 'enabled', 20_000, 'subscription');
    await follows(scopeless.id, ['bf_scopeless_fan'], false);
    assert.deepEqual(await backfillNow(scopeless.id), {
      status: 'no_consent',
      fetched: 0,
      added: 0,
    });
    assert.equal((await storedFollows(scopeless.id)).length, 0);
    const me = await meOf(browser);
    assert.equal(me.backfill?.status, 'no_consent');
    assert.equal(me.backfill?.lastRun?.status, 'no_consent');
    // A viewer who is no streamer has no backfill to speak of.
    const viewer = await logInThroughSimulator(stack.webUrl, 'bf_viewer');
    assert.equal((await meOf(viewer)).backfill, null);
  });
});
