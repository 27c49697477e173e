import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Stack } from '../helpers/stack.js';
import { waitUntil, type RunningSimulator } from '../helpers/simulator.js';
import {
  ARTIFACTS,
  logInOnPage,
  recordPageErrors,
  startPageSuite,
  type PageSuite,
} from '../helpers/page-suite.js';
import { listAll } from '../helpers/history.js';

/**
 * Issue 14 in real Chromium: a follow-bot raid on two pages served by two realtime nodes, and a
 * replay by the streamer seen on a viewer's page.
 */
describe('follow waves and replays on the event page, in headless Chromium', function () {
  this.timeout(180_000);
  let suite: PageSuite;
  let sim: RunningSimulator;
  let stack: Stack;
  let browser: Browser;
  let streamerContext: BrowserContext;
  let viewerContext: BrowserContext;
  let streamerPage: Page;
  let viewerPage: Page;
  let streamerId: string;
  const errors: string[] = [];
  const sockets = new Map<Page, string[]>();

  const open = async (context: BrowserContext) => {
    const page = recordPageErrors(await context.newPage(), errors);
    sockets.set(page, []);
    page.on('websocket', (socket) => sockets.get(page)!.push(new URL(socket.url()).port));
    return page;
  };
  const rows = (page: Page) =>
    page.$$eval('#events > li', (items) =>
      items.map((li) => ({
        id: (li as HTMLElement).dataset.id!,
        type: (li as HTMLElement).dataset.type!,
        summary: li.querySelector('.summary')!.textContent,
        replayed: li.classList.contains('replayed'),
        mark: li.querySelector('.replay-mark')?.textContent ?? null,
        replayButton: li.querySelector('button.replay') !== null,
      })),
    );
  const watch = async (page: Page, login: string) => {
    await page.getByLabel('Twitch login').fill(login);
    await page.getByRole('button', { name: 'Watch' }).click();
    await page.getByRole('heading', { name: 'Wave_Streamer' }).waitFor();
  };

  before(async () => {
    suite = await startPageSuite({
      env: { FOLLOW_WAVE_THRESHOLD: '20', FOLLOW_WAVE_WINDOW_SECONDS: '10' },
    });
    ({ sim, stack, browser } = suite);
    streamerContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    viewerContext = await browser.newContext({ viewport: { width: 390, height: 844 } });
    streamerPage = await open(streamerContext);
    viewerPage = await open(viewerContext);
  });
  after(async () => {
    await suite?.stop();
  });

  it('connects the streamer’s channel on one page and a viewer on another realtime node', async () => {
    await logInOnPage(streamerPage, stack.webUrl, 'Wave_Streamer', 'Connect your channel');
    await watch(streamerPage, 'Wave_Streamer');
    streamerId = sim.state.userByLogin('wave_streamer')!.id;
    await waitUntil(
      () =>
        [...sim.state.subscriptions.values()].some(
          (s) =>
            s.type === 'channel.follow' &&
            s.status === 'enabled' &&
            s.condition.broadcaster_user_id === streamerId,
        ),
      30_000,
      'the follow subscription',
    );
    await streamerPage.locator('#connection[data-state="live"]').waitFor();

    // The viewer logs in on web, then uses a second web node whose REALTIME_URL is node 2.
    const web2 = await stack.startWebNode('web2', { REALTIME_URL: stack.realtimeUrls[1]! });
    await logInOnPage(viewerPage, stack.webUrl, 'wave_viewer');
    await watch(viewerPage, 'Wave_Streamer');
    await viewerPage.goto(web2);
    await viewerPage.getByRole('heading', { name: 'Wave_Streamer' }).waitFor();
    await viewerPage.locator('#connection[data-state="live"]').waitFor();
    const port = (url: string) => new URL(url).port;
    assert.equal(sockets.get(streamerPage)!.at(-1), port(stack.realtimeUrls[0]!));
    assert.equal(sockets.get(viewerPage)!.at(-1), port(stack.realtimeUrls[1]!));
  });

  it('shows a raid of 300 follows in 10 s as one growing wave on both pages; the API lists all 300', async () => {
    const seen = new Map<Page, Set<string>>([
      [streamerPage, new Set()],
      [viewerPage, new Set()],
    ]);
    let sampling = true;
    const sample = (async () => {
      while (sampling) {
        for (const [page, summaries] of seen) {
          const wave = await page.locator('#events li.wave .summary').allTextContents();
          wave.forEach((summary) => summaries.add(summary));
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    const raid = await fetch(`${sim.url}/sim/follow-raids`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ broadcasterId: streamerId, count: 300, seconds: 10 }),
    });
    const outcome = (await raid.json()) as { follows: number; delivered: number };
    assert.deepEqual([outcome.follows, outcome.delivered], [300, 300]);
    for (const page of [streamerPage, viewerPage]) {
      await page
        .locator('#events li.wave .summary', { hasText: /^Follow wave: 280 new followers in/ })
        .waitFor({ timeout: 20_000 });
    }
    sampling = false;
    await sample;

    for (const page of [streamerPage, viewerPage]) {
      const shown = await rows(page);
      assert.equal(new Set(shown.map((r) => r.id)).size, shown.length, 'no row twice');
      assert.equal(shown.filter((r) => r.type === 'channel.follow.wave').length, 1, 'one wave');
      assert.equal(
        shown.filter((r) => r.type === 'channel.follow').length,
        20,
        '20 rows before it',
      );
      // Only rows above it: a follow decided live just before the wave opened can be stored after it.
      const waveAt = shown.findIndex((r) => r.type === 'channel.follow.wave');
      assert.ok(
        waveAt >= 0 && shown.slice(0, waveAt).every((r) => r.type === 'channel.follow'),
        'above the wave only follows decided before it opened',
      );
      const states = [...seen.get(page)!];
      assert.ok(states.length >= 3, `a growing entry: ${states.join(' | ')}`);
    }
    const listed = await listAll(stack.webUrl, streamerId);
    assert.equal(listed.filter((e) => e.type === 'channel.follow').length, 300);
    assert.equal(new Set(listed.map((e) => e.id)).size, listed.length);

    // Expanded, the wave lists every follower from the history.
    await viewerPage.getByRole('button', { name: 'Show who followed' }).click();
    const toggle = viewerPage.locator('#events li.wave .wave-toggle');
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    assert.equal(await toggle.textContent(), 'Hide followers');
    await waitUntil(
      async () => (await viewerPage.locator('#events li.wave .wave-followers li').count()) === 280,
      15_000,
      'all 280 followers listed',
    );
    await viewerPage.screenshot({ path: path.join(ARTIFACTS, 'follow-wave-phone.png') });
    const overflow = await viewerPage.evaluate(
      () => document.documentElement.scrollWidth > window.innerWidth,
    );
    assert.equal(overflow, false, 'nothing wider than a phone screen');
  });

  it('shows a replay by the streamer on the viewer’s page, marked, with no row doubled', async () => {
    // Only the streamer's page offers replays.
    const viewerRows = await rows(viewerPage);
    assert.ok(viewerRows.every((r) => !r.replayButton));
    const target = (await rows(streamerPage)).find((r) => r.type === 'channel.follow')!;
    assert.ok((await rows(streamerPage)).every((r) => r.replayButton));
    await streamerPage
      .locator(`#events li[data-id="${target.id}"]`)
      .getByRole('button', { name: `Replay: ${target.summary}` })
      .focus();
    await streamerPage.keyboard.press('Enter');
    await viewerPage.locator(`#events li[data-id="${target.id}"].replayed`).waitFor();
    const after = await rows(viewerPage);
    assert.deepEqual(
      after.map((r) => r.id),
      viewerRows.map((r) => r.id),
      'the same rows, in the same order',
    );
    assert.equal(after.find((r) => r.id === target.id)!.mark, 'Replayed');
    assert.equal(after.filter((r) => r.replayed).length, 1);
    await viewerPage.screenshot({ path: path.join(ARTIFACTS, 'replay-phone.png') });
    await streamerPage.locator(`#events li[data-id="${target.id}"].replayed`).waitFor();
    // A 401 is the logged-out start page asking who is there: an answer the page expects.
    assert.deepEqual(
      errors.filter((e) => !/status of 401/.test(e)),
      [],
      'no script error and no Content-Security-Policy violation',
    );
  });
});
