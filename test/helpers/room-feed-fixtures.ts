import type { StreamEvent } from '../../src/shared/events/event.js';
import type { FeedCache, FeedEntry } from '../../src/shared/feed/feed-cache.js';

/** Follow number `n` on streamer 1337: id `ev_<n>`, `n` seconds into 2026. */
export const event = (n: number): StreamEvent => ({
  id: `ev_${n}`,
  type: 'channel.follow',
  broadcasterId: '1337',
  broadcasterLogin: 'cool_user',
  broadcasterName: 'Cool_User',
  occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  actor: null,
  summary: `event ${n}`,
  data: {},
});

/**
 * An in-memory feed cache of `entries` (kept, not copied: `add` appends `event(n)` at seq `n`),
 * whose reads can be held back to open race windows on purpose: `hold()` returns the release.
 */
export function fakeFeedCache(entries: FeedEntry[]) {
  let gate: Promise<void> = Promise.resolve();
  const cache: FeedCache & { hold(): () => void; add(n: number): void } = {
    hold() {
      let open!: () => void;
      gate = new Promise((resolve) => (open = resolve));
      return () => {
        open();
        gate = Promise.resolve();
      };
    },
    add(n) {
      entries.push({ seq: n, event: event(n) });
    },
    append: () => Promise.reject(new Error('not used')),
    async latest(_b, limit) {
      await gate;
      return [...entries].reverse().slice(0, limit);
    },
    async range(_b, from, to) {
      await gate;
      return entries.filter((e) => e.seq > from && e.seq <= to);
    },
    seqOf: (_b, id) => Promise.resolve(entries.find((e) => e.event.id === id)?.seq ?? null),
    currentSeq: () => Promise.resolve(entries.at(-1)?.seq ?? 0),
  };
  return cache;
}
