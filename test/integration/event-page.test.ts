import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import type { Stack, Watcher } from '../helpers/stack.js';
import { simEvent, waitUntil, type RunningSimulator } from '../helpers/simulator.js';
import {
  ARTIFACTS,
  logInOnPage,
  recordPageErrors,
  startPageSuite,
  type PageSuite,
} from '../helpers/page-suite.js';
import { CACHED_EVENTS } from '../../src/shared/feed/feed-keys.js';

/** REALTIME_MAX_CONNECTIONS_PER_USER's default. */
const MAX_CONNECTIONS_PER_VIEWER = 10;

describe('the event page in headless Chromium', function () {
  this.timeout(120_000);
  let suite: PageSuite;
  let sim: RunningSimulator;
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let streamer: { id: string };
  const errors: string[] = [];

  before(async () => {
    suite = await startPageSuite();
    ({ sim, stack, browser } = suite);
    streamer = sim.state.addUser('page_streamer', { displayName: 'Page_Streamer' });
    page = recordPageErrors(
      await browser.newPage({ viewport: { width: 1280, height: 900 } }),
      errors,
    );
  });
  after(async () => {
    await suite?.stop();
  });

  const trigger = async (count: number) => {
    for (let i = 0; i < count; i++) {
      const deliveries = await simEvent(sim, { type: 'stream.online', broadcasterId: streamer.id });
      assert.deepEqual(
        deliveries.map((d) => d.delivered),
        [true],
      );
    }
  };
  const shownIds = () =>
    page.$$eval('#events li', (items) => items.map((li) => (li as HTMLElement).dataset.id!));

  it('logs in through the simulator and tells an unknown streamer apart', async () => {
    await logInOnPage(page, stack.webUrl, 'page_viewer');
    await page.getByLabel('Twitch login').waitFor();
    await page.getByLabel('Twitch login').fill('nobody_at_all');
    await page.getByRole('button', { name: 'Watch' }).click();
    await page.getByText('Twitch has no streamer called “nobody_at_all”.').waitFor();
  });

  it('shows the 10 latest events of the favourite, then new ones once each, newest on top', async () => {
    await page.getByLabel('Twitch login').fill('Page_Streamer');
    await page.getByRole('button', { name: 'Watch' }).click();
    await page.getByRole('heading', { name: 'Page_Streamer' }).waitFor();
    await waitUntil(
      () =>
        [...sim.state.subscriptions.values()].filter(
          (s) => s.status === 'enabled' && s.type === 'stream.online',
        ).length === 1,
      20_000,
      'the stream.online subscription',
    );
    await page.getByText('appear once Page_Streamer connects their channel').waitFor();
    await trigger(12);
    await page.reload();
    await page.locator('#connection[data-state="live"]').waitFor();
    await waitUntil(async () => (await shownIds()).length === 10, 10_000, 'ten events');
    await trigger(3);
    await waitUntil(async () => (await shownIds()).length === 13, 10_000, 'thirteen events');
    const ids = await shownIds();
    assert.equal(new Set(ids).size, ids.length, 'no event twice');
    const stored = (await (
      await fetch(`${stack.webUrl}/api/streamers/${streamer.id}/events?limit=13`)
    ).json()) as { events: Array<{ id: string }> };
    assert.deepEqual(
      ids,
      stored.events.map((e) => e.id),
      'newest on top, as the API orders them',
    );
    await page.screenshot({ path: path.join(ARTIFACTS, 'event-page-desktop.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'event-page-phone.png'), fullPage: true });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth > window.innerWidth,
    );
    assert.equal(overflow, false, 'nothing wider than a phone screen');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('recovers every event exactly once after its realtime node goes away', async () => {
    const before = await shownIds();
    await stack.processes.get('realtime1')!.stop('SIGKILL');
    await page.locator('#connection:not([data-state="live"])').waitFor();
    await trigger(4);
    await stack.start('realtime1');
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 20_000 });
    await waitUntil(
      async () => (await shownIds()).length === before.length + 4,
      15_000,
      'the four missed events',
    );
    await trigger(1);
    await waitUntil(
      async () => (await shownIds()).length === before.length + 5,
      10_000,
      'a live event after the reconnect',
    );
    const ids = await shownIds();
    assert.equal(new Set(ids).size, ids.length, 'no event twice');
  });

  it('fills in from the event history what its realtime node no longer had cached', async () => {
    const before = await shownIds();
    const missedCount = CACHED_EVENTS + 10;
    const stored = async () =>
      Number(
        (await stack.knex('events').where({ broadcaster_id: streamer.id }).count('* as n'))[0]!.n,
      );
    const storedBefore = await stored();
    await stack.processes.get('realtime1')!.stop('SIGKILL');
    await page.locator('#connection:not([data-state="live"])').waitFor();
    await trigger(missedCount);
    await waitUntil(
      async () => (await stored()) >= storedBefore + missedCount,
      15_000,
      'the missed events stored',
    );
    await stack.start('realtime1');
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 20_000 });
    await waitUntil(
      async () => (await shownIds()).length === before.length + missedCount,
      15_000,
      `all ${missedCount} missed events, ${missedCount - CACHED_EVENTS} of them no longer cached`,
    );
    const ids = await shownIds();
    assert.equal(new Set(ids).size, ids.length, 'no event twice');
    assert.deepEqual(ids.slice(missedCount), before, 'the earlier ones below, as they were');
    // In the order they came (the stored feed positions), newest on top.
    const arrived = await stack
      .knex('events')
      .where({ broadcaster_id: streamer.id })
      .whereNotNull('seq')
      .orderBy('seq', 'desc')
      .limit(missedCount)
      .pluck('id');
    assert.deepEqual(ids.slice(0, missedCount), arrived);
  });

  it('goes live again after a handshake refused for want of a token, and shows what it missed', async () => {
    const before = await shownIds();
    let tokenFailures = 0;
    const onFailed = (request: Request) => {
      if (new URL(request.url()).pathname === '/api/realtime/token') tokenFailures++;
    };
    page.on('requestfailed', onFailed);
    try {
      await stack.processes.get('realtime1')!.stop('SIGKILL');
      await page.locator('#connection:not([data-state="live"])').waitFor();
      await trigger(3);
      // A deploy of web: the node comes back first, so the page's handshake gets no token.
      await stack.processes.get('web')!.stop('SIGTERM');
      await stack.start('realtime1');
      await waitUntil(() => tokenFailures > 0, 20_000, 'a token request failing');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      assert.notEqual(await page.locator('#connection').getAttribute('data-state'), 'live');
      await stack.start('web');
      await page.locator('#connection[data-state="live"]').waitFor({ timeout: 30_000 });
    } finally {
      page.off('requestfailed', onFailed);
    }
    await waitUntil(
      async () => (await shownIds()).length === before.length + 3,
      15_000,
      'the three missed events',
    );
    await trigger(1);
    await waitUntil(
      async () => (await shownIds()).length === before.length + 4,
      10_000,
      'a live event after the retry',
    );
    const ids = await shownIds();
    assert.equal(new Set(ids).size, ids.length, 'no event twice');
    assert.deepEqual(ids.slice(4), before, 'the earlier ones below, as they were');
  });

  it('goes live again after the node refused a handshake for too many connections', async () => {
    const before = await shownIds();
    const { id: viewerId } = await page.evaluate(
      async () => (await (await fetch('/api/me')).json()) as { id: string },
    );
    const realtime1 = stack.processes.get('realtime1')!;
    // Offline, the page's reconnect attempts fail in the browser, so that the node's places
    // are all taken before the page gets to try.
    await page.context().setOffline(true);
    const others: Watcher[] = [];
    try {
      await realtime1.stop('SIGKILL');
      await page.locator('#connection:not([data-state="live"])').waitFor();
      await trigger(2);
      await stack.start('realtime1');
      for (let n = 0; n < MAX_CONNECTIONS_PER_VIEWER; n++) {
        others.push(await stack.watcher(0, viewerId));
      }
      await page.context().setOffline(false);
      await stack.processes
        .get('realtime1')!
        .waitForOutput(
          new RegExp(`Refused connection ${MAX_CONNECTIONS_PER_VIEWER + 1} of viewer`),
        );
      await new Promise((resolve) => setTimeout(resolve, 2000));
      assert.notEqual(await page.locator('#connection').getAttribute('data-state'), 'live');
    } finally {
      await page.context().setOffline(false);
      for (const other of others) other.socket.disconnect();
    }
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 30_000 });
    await waitUntil(
      async () => (await shownIds()).length === before.length + 2,
      15_000,
      'the two missed events',
    );
    const ids = await shownIds();
    assert.equal(new Set(ids).size, ids.length, 'no event twice');
    assert.deepEqual(ids.slice(2), before, 'the earlier ones below, as they were');
  });

  it('keeps a strict Content-Security-Policy with no inline script, and logs out', async () => {
    const response = await fetch(stack.webUrl);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.doesNotMatch(await response.text(), /<script(?![^>]*\bsrc=)/);
    // 401 (before login) and 404 (the unknown streamer) are answers the page expects and shows.
    const unexpected = errors.filter(
      (e) => !/status of (401|404)|WebSocket|ERR_CONNECTION_REFUSED/.test(e),
    );
    assert.deepEqual(unexpected, [], 'no script error and no Content-Security-Policy violation');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('link', { name: 'Log in with Twitch' }).waitFor();
  });
});
