import { Router } from 'express';
import { z } from 'zod';
import type { StreamEvent } from '../../shared/events/event.js';
import type { FeedCache } from '../../shared/feed/feed-cache.js';
import type { FeedAnchor, PositionedEvent } from '../../shared/db/event-store.js';
import { CACHED_EVENTS } from '../../shared/feed/feed-keys.js';
import { typesShownFor } from '../../shared/events/event-kinds.js';
import { badRequest, notFound } from '../errors.js';
import { broadcasterIdSchema, eventIdSchema } from './route-params.js';
import { parseKinds } from './kinds-param.js';
import { perMinuteRoute, type CountsPerMinute } from './per-minute.route.js';
import { isFollowWave } from '../../shared/feed/follow-waves.js';

export interface EventHistory extends CountsPerMinute {
  listBefore(
    broadcasterId: string,
    limit: number,
    before?: FeedAnchor,
    types?: readonly string[],
  ): Promise<PositionedEvent[]>;
  positionOf(broadcasterId: string, eventId: string): Promise<FeedAnchor | null>;
  listAfter(
    broadcasterId: string,
    afterSeq: number,
    limit: number,
    afterId?: string,
  ): Promise<Array<{ seq: number; event: StreamEvent }>>;
  seqOf(broadcasterId: string, eventId: string): Promise<number | null>;
}

const paramsSchema = z.object({ broadcasterId: broadcasterIdSchema });
const querySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(10),
  before: eventIdSchema.optional(),
  after: eventIdSchema.optional(),
  kinds: z.unknown().optional(),
});

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/**
 * Arrival order, newest first, as the `events` index has it: by feed position, then id as bytes
 * (COLLATE "C"; positions repeat only if Redis lost a feed and numbered it again).
 */
const newestFirst = (a: { seq: number; id: string }, b: { seq: number; id: string }) =>
  b.seq - a.seq || byteOrder(b.id, a.id);

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
    const kinds = parseKinds(query.data.kinds);
    if (kinds !== undefined && after !== undefined) {
      throw badRequest('kinds filters the latest events and before= pages, not after=');
    }
    if (after !== undefined) {
      res.json(await eventsAfter(deps, broadcasterId, after, limit));
      return;
    }

    const types = kinds && typesShownFor(kinds);
    res.json({ events: await eventsBefore(deps, broadcasterId, before, limit, types) });
  });
  router.get('/:broadcasterId/events/per-minute', perMinuteRoute(deps.history));
  return router;
}

/**
 * A page in arrival order, newest first, every page alike: the feed cache answers while it holds
 * the whole page (the newest 50), PostgreSQL for the rest. Events stored before feed positions
 * existed come after every positioned one (PostgreSQL's `listBefore`). So paging with `before` =
 * the last id of each page lists every event once and ends with an empty page; an unknown
 * `before` gives an empty page. With `types`, only events of those types, from both.
 */
async function eventsBefore(
  deps: { cache: FeedCache; history: EventHistory },
  broadcasterId: string,
  before: string | undefined,
  limit: number,
  types?: readonly string[],
): Promise<StreamEvent[]> {
  let anchor: FeedAnchor | undefined;
  let anchorCached = true;
  if (before !== undefined) {
    const cachedSeq = await deps.cache.seqOf(broadcasterId, before);
    anchorCached = cachedSeq !== null;
    anchor =
      cachedSeq !== null
        ? { id: before, seq: cachedSeq }
        : ((await deps.history.positionOf(broadcasterId, before)) ?? undefined);
    if (anchor === undefined) return [];
  }
  const shown = (e: { event: StreamEvent }) => types === undefined || types.includes(e.event.type);
  const cached = (
    anchor === undefined
      ? // Filtered, the page may need every cached event to fill.
        await deps.cache.latest(broadcasterId, types ? CACHED_EVENTS : limit)
      : anchor.seq === null
        ? []
        : (await deps.cache.range(broadcasterId, 0, anchor.seq)).reverse()
  )
    .filter(shown)
    .map(({ seq, event }) => ({ seq, id: event.id, event }))
    .filter((e) => anchor?.seq == null || newestFirst(e, { seq: anchor.seq, id: anchor.id }) > 0);
  // The cache holds the newest events without a gap, so a full page from it is the page; but not
  // the follows a wave took in, which share the wave entry's position and are in PostgreSQL only.
  const page = cached.slice(0, limit);
  const nearWave =
    !anchorCached ||
    (before !== undefined && before.startsWith('wave_')) ||
    page.some((e) => isFollowWave(e.event));
  if (cached.length >= limit && !nearWave) return page.map((e) => e.event);

  // The cache may hold events not yet persisted, and PostgreSQL events the cache evicted.
  const stored = await deps.history.listBefore(broadcasterId, limit, anchor, types);
  const positioned = new Map<string, Positioned>();
  for (const { seq, event } of [...stored, ...cached]) {
    if (seq !== null) positioned.set(event.id, { seq, id: event.id, event });
  }
  const newest = [...positioned.values()].sort(newestFirst).map((e) => e.event);
  // A row stored without its position can still be in the cache with it: listed once, there.
  const unpositioned = stored
    .filter((e) => e.seq === null && !positioned.has(e.event.id))
    .map((e) => e.event);
  return [...newest, ...unpositioned].slice(0, limit);
}

interface Positioned {
  seq: number;
  id: string;
  event: StreamEvent;
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
  // Keyed by id, not seq: a follow wave's follows share its position, ordered by id.
  const anchor = { seq: afterSeq, id: after };
  const [cached, stored] = await Promise.all([
    deps.cache.range(broadcasterId, afterSeq - 1, Number.MAX_SAFE_INTEGER),
    deps.history.listAfter(broadcasterId, afterSeq, limit + 1, after),
  ]);
  const byId = new Map<string, Positioned>();
  for (const { seq, event } of [...stored, ...cached]) {
    const entry = { seq, id: event.id, event };
    if (newestFirst(entry, anchor) < 0) byId.set(event.id, entry);
  }
  const ordered = [...byId.values()].sort((a, b) => newestFirst(b, a)).map((e) => e.event);
  return { events: ordered.slice(0, limit), more: ordered.length > limit };
}
