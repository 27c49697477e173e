import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { StreamEvent } from '../../shared/events/event.js';
import type { FeedCache } from '../../shared/feed/feed-cache.js';
import type { NotifyReplayJob } from '../../shared/queues.js';
import type { Logger } from '../../shared/logger.js';
import type { SessionUser } from '../auth/session-user.js';
import { badRequest, forbidden, HttpError, notFound } from '../errors.js';
import { broadcasterIdSchema, eventIdSchema } from './route-params.js';

export interface ReplayDeps {
  cache: FeedCache;
  /** Stored events by id (PostgreSQL), for those the cache no longer holds. */
  history: { findByIds(ids: string[]): Promise<StreamEvent[]> };
  /** Whether the streamer connected their channel (streamer mode). */
  isStreamerMode: (broadcasterId: string) => Promise<boolean>;
  isOperator: (user: SessionUser) => boolean;
  /**
   * Takes the streamer's one replay of the interval: 0 when taken, else the milliseconds until
   * the next one may be.
   */
  takeReplaySlot: (broadcasterId: string) => Promise<number>;
  /** Hands the replay to the realtime fleet (through the emitter). */
  publish: (replay: NotifyReplayJob) => Promise<void>;
  log: Logger;
}

/** Who may replay: the streamer themself in streamer mode, or an operator. */
async function roleOf(
  deps: ReplayDeps,
  user: SessionUser,
  broadcasterId: string,
): Promise<'streamer' | 'operator' | null> {
  if (user.id === broadcasterId && (await deps.isStreamerMode(broadcasterId))) return 'streamer';
  return deps.isOperator(user) ? 'operator' : null;
}

async function findEvent(deps: ReplayDeps, broadcasterId: string, eventId: string) {
  const seq = await deps.cache.seqOf(broadcasterId, eventId);
  if (seq !== null) {
    const [cached] = await deps.cache.range(broadcasterId, seq - 1, seq);
    if (cached?.event.id === eventId) return cached.event;
  }
  const [stored] = await deps.history.findByIds([eventId]);
  return stored?.broadcasterId === broadcasterId ? stored : undefined;
}

/**
 * `POST /api/streamers/:broadcasterId/events/:eventId/replay`: plays a stored event again to
 * everyone watching (`event:replayed`), for the streamer in streamer mode or an operator. Same-
 * origin like every state-changing route (app.ts); one replay per streamer and interval.
 */
export function replayRoute(deps: ReplayDeps): Router {
  const router = Router();
  router.post('/streamers/:broadcasterId/events/:eventId/replay', async (req, res) => {
    const user = req.user;
    if (!user) throw new HttpError(401, 'unauthorized', 'Log in with Twitch first');
    const broadcaster = broadcasterIdSchema.safeParse(req.params.broadcasterId);
    const event = eventIdSchema.safeParse(req.params.eventId);
    if (!broadcaster.success || !event.success) {
      throw badRequest('broadcasterId must be a Twitch user id, eventId an event id');
    }
    const broadcasterId = broadcaster.data;
    const eventId = event.data;
    const ids = { scope: 'api', userId: user.id, login: user.login, broadcasterId, eventId };
    const role = await roleOf(deps, user, broadcasterId);
    if (!role) {
      deps.log.warn(
        ids,
        `Refused a replay of event ${eventId} for streamer ${broadcasterId} to ${user.login} (user id ${user.id}): neither the streamer in streamer mode nor an operator`,
      );
      throw forbidden(
        'Only the streamer, with their channel connected, or an operator may replay events',
        'not_allowed',
      );
    }
    const found = await findEvent(deps, broadcasterId, eventId);
    if (!found) throw notFound(`Streamer ${broadcasterId} has no event ${eventId}`);
    const waitMs = await deps.takeReplaySlot(broadcasterId);
    if (waitMs > 0) {
      const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
      deps.log.warn(
        { ...ids, retryAfter },
        `Refused a replay of event ${eventId} for streamer ${broadcasterId} to ${user.login}: one was replayed less than the interval ago`,
      );
      throw new HttpError(
        429,
        'replay_too_soon',
        `One replay per streamer at a time: retry in ${retryAfter} s`,
        { 'retry-after': String(retryAfter) },
      );
    }
    const replay = {
      broadcasterId,
      replayed: found,
      replayId: randomUUID(),
      replayedAt: new Date().toISOString(),
    };
    await deps.publish(replay);
    deps.log.info(
      { ...ids, role, replayId: replay.replayId },
      `Replay ${replay.replayId} of ${found.type} event ${eventId} for streamer ${broadcasterId}, asked by ${user.login} (user id ${user.id}, ${role})`,
    );
    res
      .status(202)
      .set('cache-control', 'no-store')
      .json({ replayId: replay.replayId, replayedAt: replay.replayedAt, event: found });
  });
  return router;
}

/** One replay per streamer per `intervalMs`: a key that only the first request of it sets. */
export function replaySlots(
  redis: {
    set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<'OK' | null>;
    pttl(key: string): Promise<number>;
  },
  prefix: string,
  intervalMs: number,
) {
  return async (broadcasterId: string): Promise<number> => {
    const key = `${prefix}:replay:${broadcasterId}`;
    if ((await redis.set(key, '1', 'PX', intervalMs, 'NX')) === 'OK') return 0;
    const left = await redis.pttl(key);
    // Expired in between (-2), or set without a TTL (-1, never by us): the next try wins it.
    return left > 0 ? left : 1;
  };
}
