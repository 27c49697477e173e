import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { EVENTSUB_SECRET, type Stack } from '../helpers/stack.js';
import { simEvent, waitUntil, type RunningSimulator } from '../helpers/simulator.js';
import {
  ARTIFACTS,
  logInOnPage,
  recordPageErrors,
  startPageSuite,
  type PageSuite,
} from '../helpers/page-suite.js';
import { deliver, loadPayloads, notificationBody } from '../helpers/twitch.js';
import { EVENT_KINDS } from '../../src/shared/events/event-kinds.js';

const VIEWER = 'filter_viewer';

interface Row {
  id: string;
  type: string;
}

describe('event filters on the page in headless Chromium', function () {
  this.timeout(180_000);
  let suite: PageSuite;
  let sim: RunningSimulator;
  let stack: Stack;
  let browser: Browser;
  let first: BrowserContext;
  let page: Page;
  let streamer: { id: string };
  const errors: string[] = [];

  before(async () => {
    suite = await startPageSuite();
    ({ sim, stack, browser } = suite);
    streamer = sim.state.addUser('filter_streamer', { displayName: 'Filter_Streamer' });
    first = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = recordPageErrors(await first.newPage(), errors);
  });
  after(async () => {
    await suite?.stop();
  });

  /** Makes `type` happen on the streamer's channel; resolves once Twitch delivered it. */
  const trigger = async (type: 'stream.online' | 'channel.raid', count = 1) => {
    for (let i = 0; i < count; i++) {
      const deliveries = await simEvent(sim, { type, broadcasterId: streamer.id });
      assert.ok(deliveries.length > 0 && deliveries.every((d) => d.delivered), type);
    }
  };
  const rows = (on: Page = page): Promise<Row[]> =>
    on.$$eval('#events li', (items) =>
      items.map((li) => ({
        id: (li as HTMLElement).dataset.id!,
        type: (li as HTMLElement).dataset.type!,
      })),
    );
  const stored = async (query = 'limit=100'): Promise<Row[]> =>
    (
      (await (
        await fetch(`${stack.webUrl}/api/streamers/${streamer.id}/events?${query}`)
      ).json()) as { events: Row[] }
    ).events.map(({ id, type }) => ({ id, type }));
  const streamRows = (list: Row[]) => list.filter((r) => r.type.startsWith('stream.'));
  const raidRows = (list: Row[]) => list.filter((r) => r.type === 'channel.raid');
  const checkbox = (on: Page, name: string) => on.getByRole('checkbox', { name, exact: true });
  const countOf = (on: Page, kind: string) => on.locator(`#kind-count-${kind}`).textContent();
  const storedHidden = async () =>
    (
      await stack
        .knex('users')
        .where({ login: VIEWER })
        .first<{ hidden_event_kinds: string[] }>('hidden_event_kinds')
    )?.hidden_event_kinds;

  const logIn = (on: Page) => logInOnPage(on, stack.webUrl, VIEWER);

  it('names a checkbox for every kind, all checked by default, with counts of what the page holds', async () => {
    await logIn(page);
    await page.getByLabel('Twitch login').fill('filter_streamer');
    await page.getByRole('button', { name: 'Watch' }).click();
    await page.getByRole('heading', { name: 'Filter_Streamer' }).waitFor();
    await waitUntil(
      () =>
        ['stream.online', 'channel.raid'].every((type) =>
          [...sim.state.subscriptions.values()].some(
            (s) => s.status === 'enabled' && s.type === type,
          ),
        ),
      20_000,
      'the stream.online and channel.raid subscriptions',
    );
    await page.locator('#connection[data-state="live"]').waitFor();
    for (const kind of EVENT_KINDS) {
      assert.equal(await checkbox(page, kind.label).isChecked(), true, kind.label);
    }
    await page.getByRole('group', { name: 'Show these events' }).waitFor();
    await trigger('stream.online');
    await trigger('channel.raid');
    await trigger('stream.online', 2);
    await waitUntil(async () => (await rows()).length === 4, 15_000, 'four live events');
    const shown = await rows();
    assert.equal(streamRows(shown).length, 3);
    assert.equal(raidRows(shown).length, 1);
    await waitUntil(async () => (await countOf(page, 'stream')) === '3 shown', 5000, 'stream 3');
    assert.equal(await countOf(page, 'raids'), '1 shown');
    assert.equal(await countOf(page, 'follows'), '0 shown');
  });

  it('draws the last hour per minute from the API, by kind', async () => {
    const perMinute = async () =>
      (await (
        await fetch(`${stack.webUrl}/api/streamers/${streamer.id}/events/per-minute`)
      ).json()) as { counts: Record<string, number[]> };
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const drawn = (kind: string) =>
      page.$$eval(`#per-minute rect[data-kind="${kind}"]`, (bars) =>
        bars.reduce((total, bar) => total + Number((bar as SVGElement).dataset.count), 0),
      );
    await waitUntil(
      async () => (await drawn('stream')) === 3 && (await drawn('raids')) === 1,
      15_000,
      'the chart with 3 stream events and 1 raid',
    );
    const counts = (await perMinute()).counts;
    assert.equal(sum(counts.stream!), 3);
    assert.equal(sum(counts.raids!), 1);
    const chart = page.getByRole('img', { name: /Events per minute over the last hour/ });
    assert.match((await chart.getAttribute('aria-label'))!, /Raids: 1, Stream status: 3\./);
  });

  it('hides a kind with the keyboard alone, at once, and keeps the choice on the server', async () => {
    // From the "Change streamer" button, Tab to the "Stream status" box, Space to toggle it.
    await page.getByRole('button', { name: 'Change streamer' }).focus();
    const target = checkbox(page, 'Stream status');
    for (let presses = 0; presses < 30; presses++) {
      await page.keyboard.press('Tab');
      if (await target.evaluate((box) => box === document.activeElement)) break;
    }
    assert.equal(await target.evaluate((box) => box === document.activeElement), true, 'focused');
    await page.keyboard.press('Space');
    assert.equal(await target.isChecked(), false);
    await waitUntil(async () => streamRows(await rows()).length === 0, 5000, 'no stream rows');
    assert.equal(raidRows(await rows()).length, 1, 'the raid is still shown');
    assert.equal(await countOf(page, 'stream'), 'hidden');
    assert.equal(await countOf(page, 'raids'), '1 shown');
    await waitUntil(
      async () => JSON.stringify(await storedHidden()) === '["stream"]',
      5000,
      'the choice stored with the viewer',
    );
    // The chart follows the filter: no stream bars.
    assert.equal(await page.locator('#per-minute rect[data-kind="stream"]').count(), 0);
    assert.ok((await page.locator('#per-minute rect[data-kind="raids"]').count()) > 0);
  });

  it('fills the history with the shown kinds after a reload, however many hidden ones came after', async () => {
    await trigger('channel.raid');
    await trigger('stream.online', 12);
    await waitUntil(
      async () => streamRows(await stored()).length === 15,
      15_000,
      'the 12 stream events stored',
    );
    // Unfiltered, the latest 10 are all stream events: none of the page's kinds.
    assert.equal(raidRows(await stored('limit=10')).length, 0);
    await page.reload();
    await page.locator('#connection[data-state="live"]').waitFor();
    assert.equal(await checkbox(page, 'Stream status').isChecked(), false, 'still hidden');
    await waitUntil(async () => (await rows()).length === 2, 10_000, 'the two raids');
    const expected = raidRows(await stored());
    assert.deepEqual(await rows(), expected, 'the raids, newest on top, as the API has them');
    assert.equal(await countOf(page, 'raids'), '2 shown');
  });

  it('leaves hidden kinds out of live events', async () => {
    const before = await rows();
    await trigger('stream.online');
    await trigger('channel.raid');
    await waitUntil(async () => (await rows()).length === before.length + 1, 10_000, 'the raid');
    await waitUntil(
      async () => streamRows(await stored()).length === 16,
      10_000,
      'the stream event stored',
    );
    // The feed sends in processing order; give a stray stream event time to show, if it did.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await rows();
    assert.equal(streamRows(after).length, 0);
    assert.deepEqual(after.slice(1), before);
    assert.equal(await countOf(page, 'raids'), '3 shown');
  });

  it('leaves hidden kinds out of the catch-up after a lost connection', async () => {
    const before = await rows();
    await stack.processes.get('realtime1')!.stop('SIGKILL');
    await page.locator('#connection:not([data-state="live"])').waitFor();
    await trigger('stream.online', 2);
    await trigger('channel.raid');
    await trigger('stream.online');
    await stack.start('realtime1');
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 20_000 });
    await waitUntil(
      async () => (await rows()).length === before.length + 1,
      15_000,
      'the missed raid',
    );
    const after = await rows();
    assert.equal(streamRows(after).length, 0, 'no missed stream event');
    assert.equal(new Set(after.map((r) => r.id)).size, after.length, 'no event twice');
    assert.deepEqual(after, raidRows(await stored()));
  });

  it('follows the viewer to a second browser, where showing the kind again re-renders the list', async () => {
    const second = await browser.newContext({ viewport: { width: 390, height: 844 } });
    try {
      const other = await second.newPage();
      await logIn(other);
      await other.getByRole('heading', { name: 'Filter_Streamer' }).waitFor();
      await other.locator('#connection[data-state="live"]').waitFor();
      assert.equal(await checkbox(other, 'Stream status').isChecked(), false);
      assert.equal(await checkbox(other, 'Raids').isChecked(), true);
      await waitUntil(async () => (await rows(other)).length === 4, 10_000, 'the four raids');
      assert.deepEqual(await rows(other), await rows());
      assert.equal(
        await other.evaluate(() => document.documentElement.scrollWidth > window.innerWidth),
        false,
        'nothing wider than a phone screen',
      );
      await other.screenshot({ path: path.join(ARTIFACTS, 'event-filters-phone.png') });

      // Shown again (keyboard: Space on the focused box), without a reload.
      await checkbox(other, 'Stream status').focus();
      await other.keyboard.press('Space');
      await waitUntil(
        async () => streamRows(await rows(other)).length > 0,
        10_000,
        'stream events back',
      );
      assert.deepEqual(await rows(other), await stored('limit=10'), 'the latest 10, all kinds');
      await waitUntil(
        async () => JSON.stringify(await storedHidden()) === '[]',
        5000,
        'nothing hidden, stored',
      );
      const counts = await rows(other);
      assert.equal(await countOf(other, 'stream'), `${streamRows(counts).length} shown`);
      assert.equal(await countOf(other, 'raids'), `${raidRows(counts).length} shown`);
    } finally {
      await second.close();
    }
    await page.reload();
    await page.locator('#connection[data-state="live"]').waitFor();
    assert.equal(await checkbox(page, 'Stream status').isChecked(), true, 'the first page too');
    await waitUntil(async () => streamRows(await rows()).length > 0, 10_000, 'stream rows');
    await page.screenshot({ path: path.join(ARTIFACTS, 'event-filters-desktop.png') });
    // 401 (before login) and refused sockets (realtime1 was down) are what the page expects.
    const unexpected = errors.filter(
      (e) => !/status of 401|WebSocket|ERR_CONNECTION_REFUSED/.test(e),
    );
    assert.deepEqual(unexpected, [], 'no script error and no Content-Security-Policy violation');
  });

  // Last: a type in no kind is listed whatever is hidden, which the counts above do not expect.
  it('draws `other` (a type in no kind) in a colour of its own, with a legend entry', async () => {
    const ban = loadPayloads().get('channel.ban')!;
    ban.subscription.condition = { broadcaster_user_id: streamer.id };
    const body = notificationBody(ban, (event) => {
      Object.assign(event, {
        broadcaster_user_id: streamer.id,
        broadcaster_user_login: 'filter_streamer',
        broadcaster_user_name: 'Filter_Streamer',
        banned_at: new Date().toISOString(),
        ends_at: null,
        is_permanent: true,
      });
    });
    const sent = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
      body,
      subscriptionType: 'channel.ban',
      subscriptionVersion: '1',
    });
    assert.equal(sent.status, 202);
    const drawn = () =>
      page.$$eval('#per-minute rect[data-kind="other"]', (bars) =>
        bars.reduce((total, bar) => total + Number((bar as SVGElement).dataset.count), 0),
      );
    await waitUntil(async () => (await drawn()) === 1, 15_000, 'the chart with 1 other event');
    const sumOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const counts = (
      (await (
        await fetch(`${stack.webUrl}/api/streamers/${streamer.id}/events/per-minute`)
      ).json()) as { counts: Record<string, number[]> }
    ).counts;
    assert.equal(sumOf(counts.other!), 1);
    const chart = page.getByRole('img', { name: /Events per minute over the last hour/ });
    assert.match((await chart.getAttribute('aria-label'))!, /Other events: 1\./);
    assert.equal(
      await page.locator('#per-minute .legend li.k-other').textContent(),
      'Other events 1',
    );
    // Its own colour: a bar that is not the default fill, and a --kind that no kind's box has.
    const fill = await page
      .locator('#per-minute rect[data-kind="other"]')
      .first()
      .evaluate((bar) => getComputedStyle(bar).fill);
    assert.notEqual(fill, 'rgb(0, 0, 0)');
    const colourOf = (selector: string) =>
      page.$$eval(selector, (elements) =>
        elements.map((e) => getComputedStyle(e).getPropertyValue('--kind').trim()),
      );
    const [other] = await colourOf('#per-minute .legend li.k-other');
    assert.ok(other, 'other has a --kind colour');
    const kinds = await colourOf('.kinds .kind');
    assert.equal(kinds.length, EVENT_KINDS.length);
    assert.ok(!kinds.includes(other), `${other} is also a kind's colour`);
  });
});
