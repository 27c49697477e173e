import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Stack, StackOptions } from './stack.js';
import { startStackWithSimulator, type RunningSimulator } from './simulator.js';
import { launchChromium } from './browser.js';
import { repoRoot } from './processes.js';

/** Where the Chromium suites leave their screenshots (made by startPageSuite). */
export const ARTIFACTS = path.join(repoRoot, 'test-artifacts');

export interface PageSuite {
  sim: RunningSimulator;
  stack: Stack;
  browser: Browser;
  /** Closes Chromium, then the stack, then the simulator. */
  stop(): Promise<void>;
}

/**
 * The start of a suite that drives the event page in Chromium: the artifacts folder, the real
 * stack on the Twitch simulator with browsers sent to realtime node 1 (`realtimeAsPublic`,
 * unless `options` says otherwise), and Chromium. What started is stopped again if a later
 * step fails.
 */
export async function startPageSuite(options: StackOptions = {}): Promise<PageSuite> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const { sim, stack } = await startStackWithSimulator({ realtimeAsPublic: true, ...options });
  const stopStack = async () => {
    await stack.stop();
    await sim.close();
  };
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (error) {
    await stopStack();
    throw error;
  }
  return {
    sim,
    stack,
    browser,
    async stop() {
      await browser.close();
      await stopStack();
    },
  };
}

/** Collects the page's console errors and uncaught exceptions into `errors`; returns the page. */
export function recordPageErrors(page: Page, errors: string[]): Page {
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return page;
}

/**
 * Logs `login` in on the page as a person does: the start page's link (`Log in with Twitch`, or
 * `Connect your channel` for streamer mode), then the simulator's consent form.
 */
export async function logInOnPage(
  page: Page,
  webUrl: string,
  login: string,
  link: 'Log in with Twitch' | 'Connect your channel' = 'Log in with Twitch',
): Promise<void> {
  await page.goto(webUrl);
  await page.getByRole('link', { name: link }).click();
  await page.getByPlaceholder('new_login').fill(login);
  await page.getByRole('button', { name: 'Authorize' }).click();
}
