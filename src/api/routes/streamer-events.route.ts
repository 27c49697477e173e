import { Router } from 'express';
import { z } from 'zod';
import type { StreamEvent } from '../../shared/events/event.js';
import { CACHED_EVENTS } from '../../shared/feed/feed-keys.js';
import type { FeedCache } from '../../shared/feed/feed-cache.js';
import { badRequest, notFound } from '../errors.js';
import { broadcasterIdSchema, eventIdSchema } from './route-params.js';

export interface EventHistory {
  listByBroadcaster(
    broadcasterId: string,
    opts: { limit: number; before?: string },
  ): Promise<StreamEvent[]>;
  listAfter(
    broadcasterId: string,
    afterSeq: number,
    limit: number,
  ): Promise<Array<{ seq: number; event: StreamEvent }>>;
  seqOf(broadcasterId: string, eventId: string): Promise<number | null>;
}

const paramsSchema = z.object({ broadcasterId: broadcasterIdSchema });
const querySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(10),
  before: eventIdSchema.optional(),
  after: eventIdSchema.optional(),
});

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** The order of the `events` index: occurred_at desc, then id desc compared as bytes (COLLATE "C"). */
const newestFirst = (a: StreamEvent, b: StreamEvent) =>
  byteOrder(b.occurredAt, a.occurredAt) || byteOrder(b.id, a.id);

/**
 * `GET /api/streamers/:broadcasterId/events`: the Redis feed cache answers the common case
 * (the latest few); PostgreSQL answers older pages and a cold or lost cache.
 */
export function streamerEventsRoute(deps: { cache: FeedCache; history: EventHistory }): Router {
  const router = Router();
  router.get('/:broadcasterId/events', async (req, res) => {
    const params = paramsSchema.safeParse(req.params);
    if (!params.success) throw badRequest('broadcasterId must be a Twitch user id');
    const query = querySchema.safeParse(req.query);
    if (!query.success || (query.data.before && query.data.after)) {
      throw badRequest(
        'limit must be a whole number from 1 to 100; before or after (not both) an event id',
      );
    }
    const { broadcasterId } = params.data;
    const { limit, before, after } = query.data;
    if (after !== undefined) {
      res.json(await eventsAfter(deps, broadcasterId, after, limit));
      return;
    }

    // Without `before` only the newest `limit` can answer; with it, the whole cache may.
    const cached = (
      await deps.cache.latest(broadcasterId, before === undefined ? limit : CACHED_EVENTS)
    ).map((e) => e.event);
    const start = before === undefined ? 0 : cached.findIndex((e) => e.id === before) + 1;
    const fromCache = start > 0 || before === undefined ? cached.slice(start, start + limit) : [];
    if (fromCache.length === limit) {
      res.json({ events: fromCache });
      return;
    }
    // The cache may hold events not yet persisted, and PostgreSQL events the cache evicted.
    const stored = await deps.history.listByBroadcaster(broadcasterId, { limit, before });
    const byId = new Map<string, StreamEvent>();
    for (const event of [...fromCache, ...stored]) byId.set(event.id, event);
    res.json({ events: [...byId.values()].sort(newestFirst).slice(0, limit) });
  });
  return router;
}

/**
 * `?after=<event id>`: the events that came after that one in the streamer's feed, in the order
 * they came (oldest first), at most `limit`; `more` says whether later ones are left. The cache
 * answers for the newest (stored or not yet), PostgreSQL for the ones the cache evicted. An
 * event whose position neither knows (unknown, or stored before positions were) is a 404.
 */
async function eventsAfter(
  deps: { cache: FeedCache; history: EventHistory },
  broadcasterId: string,
  after: string,
  limit: number,
): Promise<{ events: StreamEvent[]; more: boolean }> {
  const afterSeq =
    (await deps.cache.seqOf(broadcasterId, after)) ??
    (await deps.history.seqOf(broadcasterId, after));
  if (afterSeq === null) {
    throw notFound(`No event ${after} with a feed position for ${broadcasterId}`);
  }
  const [cached, stored] = await Promise.all([
    deps.cache.range(broadcasterId, afterSeq, Number.MAX_SAFE_INTEGER),
    deps.history.listAfter(broadcasterId, afterSeq, limit + 1),
  ]);
  const bySeq = new Map<number, StreamEvent>();
  for (const { seq, event } of [...stored, ...cached]) bySeq.set(seq, event);
  const ordered = [...bySeq.entries()].sort(([a], [b]) => a - b).map(([, event]) => event);
  return { events: ordered.slice(0, limit), more: ordered.length > limit };
}
