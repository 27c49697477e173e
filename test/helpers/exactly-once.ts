import assert from 'node:assert/strict';
import type { Stack, Watcher } from './stack.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The watcher got `total` events, each once: it waits for them, then a while for any repeat. */
export async function assertDeliveredOnce(watcher: Watcher, total: number): Promise<void> {
  await watcher.waitFor(total, () => true, 90_000);
  await sleep(1500);
  assert.equal(new Set(watcher.received.map((e) => e.id)).size, total, 'every event delivered');
  assert.equal(watcher.received.length, total, 'no event delivered twice');
}

/** PostgreSQL holds exactly `total` events of these streamers, once they have all arrived. */
export async function assertStoredOnce(
  stack: Stack,
  broadcasterIds: string[],
  total: number,
): Promise<void> {
  const count = async () =>
    Number(
      (
        await stack
          .knex('events')
          .whereIn('broadcaster_id', broadcasterIds)
          .count<{ count: string }[]>('* as count')
      )[0]!.count,
    );
  let stored = await count();
  for (let i = 0; i < 200 && stored < total; i++) {
    await sleep(100);
    stored = await count();
  }
  assert.equal(stored, total, 'every event stored, none twice');
}
