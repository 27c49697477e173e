import { Router } from 'express';
import { z } from 'zod';
import type { StreamEvent } from '../../shared/events/event.js';
import { CACHED_EVENTS } from '../../shared/feed/feed-keys.js';
import type { FeedCache } from '../../shared/feed/feed-cache.js';
import { badRequest } from '../errors.js';

export interface EventHistory {
  listByBroadcaster(
    broadcasterId: string,
    opts: { limit: number; before?: string },
  ): Promise<StreamEvent[]>;
}

const paramsSchema = z.object({ broadcasterId: z.string().regex(/^[0-9A-Za-z_]{1,64}$/) });
const querySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(10),
  before: z.string().min(1).max(128).optional(),
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
    if (!query.success) {
      throw badRequest('limit must be a whole number from 1 to 100; before an event id');
    }
    const { broadcasterId } = params.data;
    const { limit, before } = query.data;

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
