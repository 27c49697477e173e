import assert from 'node:assert/strict';
import type { StreamEvent } from '../../src/shared/events/event.js';

/** Every event the history lists for a streamer, paging with `before` until an empty page. */
export async function listAll(webUrl: string, broadcasterId: string): Promise<StreamEvent[]> {
  const all: StreamEvent[] = [];
  for (let before: string | undefined; ;) {
    const query = `limit=100${before ? `&before=${before}` : ''}`;
    const response = await fetch(`${webUrl}/api/streamers/${broadcasterId}/events?${query}`);
    assert.equal(response.status, 200);
    const { events } = (await response.json()) as { events: StreamEvent[] };
    if (events.length === 0) return all;
    all.push(...events);
    before = events.at(-1)!.id;
  }
}
