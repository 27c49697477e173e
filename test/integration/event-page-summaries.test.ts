import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Stack } from '../helpers/stack.js';
import { simEvent, waitUntil, type RunningSimulator } from '../helpers/simulator.js';
import { ARTIFACTS, logInOnPage, startPageSuite, type PageSuite } from '../helpers/page-suite.js';

const RLO = '\u202E';

describe('event summaries on the page, in headless Chromium', function () {
  this.timeout(120_000);
  let suite: PageSuite;
  let sim: RunningSimulator;
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let streamer: { id: string };

  before(async () => {
    suite = await startPageSuite();
    ({ sim, stack, browser } = suite);
    streamer = sim.state.addUser('summary_streamer', { displayName: 'Summary_Streamer' });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await logInOnPage(page, stack.webUrl, 'summary_viewer');
    await page.getByLabel('Twitch login').fill('summary_streamer');
    await page.getByRole('button', { name: 'Watch' }).click();
    await page.getByRole('heading', { name: 'Summary_Streamer' }).waitFor();
    await waitUntil(
      () =>
        ['stream.online', 'channel.update'].every((type) =>
          [...sim.state.subscriptions.values()].some(
            (s) => s.status === 'enabled' && s.type === type,
          ),
        ),
      20_000,
      'the stream.online and channel.update subscriptions',
    );
    await page.locator('#connection[data-state="live"]').waitFor();
  });
  after(async () => {
    await suite?.stop();
  });

  /** Sends one event through the pipeline and returns its stored summary once the page shows it. */
  async function showEvent(type: string, overrides: Record<string, unknown>) {
    const shown = await page.locator('#events li').count();
    const deliveries = await simEvent(sim, { type, broadcasterId: streamer.id, overrides });
    assert.deepEqual(
      deliveries.map((d) => d.delivered),
      [true],
    );
    await waitUntil(
      async () => (await page.locator('#events li').count()) === shown + 1,
      10_000,
      `the ${type} event on the page`,
    );
    const { events } = (await (
      await fetch(`${stack.webUrl}/api/streamers/${streamer.id}/events?limit=1`)
    ).json()) as { events: Array<{ id: string; summary: string }> };
    return { row: page.locator(`#events li[data-id="${events[0]!.id}"]`), ...events[0]! };
  }

  /** Where each letter of `phrase` in the row's summary is drawn, left to right as x positions. */
  const letterPositions = (row: ReturnType<Page['locator']>, phrase: string) =>
    row.locator('.summary').evaluate((summary, phrase) => {
      const start = summary.textContent.indexOf(phrase);
      if (start < 0) throw new Error(`"${phrase}" is not in "${summary.textContent}"`);
      const xs: number[] = [];
      const walker = document.createTreeWalker(summary, NodeFilter.SHOW_TEXT);
      let offset = 0;
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const length = node.textContent!.length;
        const from = Math.max(start, offset);
        const to = Math.min(start + phrase.length, offset + length);
        for (let i = from; i < to; i++) {
          if (phrase[i - start] === ' ') continue;
          const range = document.createRange();
          range.setStart(node, i - offset);
          range.setEnd(node, i - offset + 1);
          xs.push(range.getBoundingClientRect().left);
        }
        offset += length;
      }
      return xs;
    }, phrase);

  it("keeps the page's own words in order after a name with an unterminated right-to-left override", async () => {
    const event = await showEvent('stream.online', {
      broadcaster_user_name: `${RLO}Summary_Streamer`,
      type: 'live',
    });
    assert.equal(event.summary, `${RLO}Summary_Streamer went live`);
    assert.equal(await event.row.locator('.summary').textContent(), event.summary, 'text kept');
    const xs = await letterPositions(event.row, ' went live');
    assert.equal(xs.length, 'wentlive'.length);
    for (let i = 1; i < xs.length; i++) {
      assert.ok(xs[i]! > xs[i - 1]!, `"went live" drawn left to right: ${xs.join(', ')}`);
    }
  });

  it('keeps them in order around a title with an override too', async () => {
    const event = await showEvent('channel.update', {
      title: `${RLO}Speedrun night`,
      category_name: 'Just Chatting',
    });
    assert.equal(
      event.summary,
      `Summary_Streamer changed the title to "${RLO}Speedrun night" (Just Chatting)`,
    );
    for (const phrase of ['Summary_Streamer changed the title to', '" (Just Chatting)']) {
      const xs = await letterPositions(event.row, phrase);
      for (let i = 1; i < xs.length; i++) {
        assert.ok(xs[i]! > xs[i - 1]!, `"${phrase}" drawn left to right: ${xs.join(', ')}`);
      }
    }
  });

  it('cuts a long summary at two lines, and shows all of it from a button, by keyboard too', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const title =
      'A very long stream title that goes on and on about the day, the game, the guests and the giveaway at the end';
    const event = await showEvent('channel.update', { title, category_name: 'Just Chatting' });
    const summary = event.row.locator('.summary');
    const more = event.row.getByRole('button', { name: 'Show more' });
    /** Lines of the summary drawn inside its box, and whether its last letter is among them. */
    const layout = () =>
      // No functions inside: tsx names them with a helper the page does not have.
      summary.evaluate((element) => {
        const bottom = element.getBoundingClientRect().bottom + 1;
        const all = document.createRange();
        all.selectNodeContents(element);
        const tops = Array.from(all.getClientRects())
          .filter((rect) => rect.bottom <= bottom)
          .map((rect) => Math.round(rect.top));
        const last = element.lastChild!;
        const range = document.createRange();
        range.setStart(last, last.textContent!.length - 1);
        range.setEnd(last, last.textContent!.length);
        return {
          lines: new Set(tops).size,
          lastLetterShown: range.getBoundingClientRect().bottom <= bottom,
        };
      });

    assert.deepEqual(await layout(), { lines: 2, lastLetterShown: false }, 'cut at two lines');
    await more.waitFor();
    assert.equal(await more.getAttribute('aria-expanded'), 'false');
    assert.equal(await more.getAttribute('aria-controls'), await summary.getAttribute('id'));

    await more.focus();
    await page.keyboard.press('Enter');
    const less = event.row.getByRole('button', { name: 'Show less' });
    assert.equal(await less.getAttribute('aria-expanded'), 'true');
    const expanded = await layout();
    assert.ok(expanded.lines > 2, `all of it: ${expanded.lines} lines`);
    assert.equal(expanded.lastLetterShown, true, 'down to its last letter');

    await page.screenshot({
      path: path.join(ARTIFACTS, 'event-page-summary-expanded.png'),
      fullPage: true,
    });
    await page.keyboard.press('Space');
    assert.deepEqual(await layout(), { lines: 2, lastLetterShown: false }, 'cut again');
    await more.click();
    assert.equal((await layout()).lastLetterShown, true, 'a click shows it all too');

    const short = await showEvent('stream.offline', {});
    assert.equal(await short.row.getByRole('button').count(), 0, 'no button where nothing is cut');
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});
