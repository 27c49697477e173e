import type { RequestHandler } from 'express';
import {
  EVENT_KIND_IDS,
  OTHER_EVENTS,
  kindOfType,
  type EventKind,
} from '../../shared/events/event-kinds.js';
import { badRequest } from '../errors.js';
import { broadcasterIdSchema } from './route-params.js';

export interface CountsPerMinute {
  countsPerMinute(
    broadcasterId: string,
    from: Date,
    to: Date,
  ): Promise<Array<{ minute: Date; type: string; count: number }>>;
}

/** The chart's span: the last hour, a bar per minute, the current (unfinished) one last. */
export const PER_MINUTE_BUCKETS = 60;
const MINUTE_MS = 60_000;

export interface PerMinuteCounts {
  /** Start of the first (oldest) minute, ISO 8601. */
  from: string;
  bucketSeconds: 60;
  /** Per kind, and `other` for types in no kind: PER_MINUTE_BUCKETS counts, oldest first. */
  counts: Record<EventKind | 'other', number[]>;
}

/** Rows of countsPerMinute as one array per kind, every minute present. */
export function perMinuteCounts(
  from: Date,
  rows: Array<{ minute: Date; type: string; count: number }>,
): PerMinuteCounts {
  const zeros = () => Array.from({ length: PER_MINUTE_BUCKETS }, () => 0);
  const counts = Object.fromEntries(
    [...EVENT_KIND_IDS, OTHER_EVENTS.id].map((kind) => [kind, zeros()]),
  ) as Record<EventKind | 'other', number[]>;
  for (const { minute, type, count } of rows) {
    const bucket = Math.floor((minute.getTime() - from.getTime()) / MINUTE_MS);
    if (bucket < 0 || bucket >= PER_MINUTE_BUCKETS) continue;
    counts[kindOfType(type) ?? OTHER_EVENTS.id][bucket]! += count;
  }
  return { from: from.toISOString(), bucketSeconds: 60, counts };
}

/** `GET /api/streamers/:broadcasterId/events/per-minute`: events per minute over the last hour. */
export function perMinuteRoute(history: CountsPerMinute): RequestHandler {
  return async (req, res) => {
    const id = broadcasterIdSchema.safeParse(req.params.broadcasterId);
    if (!id.success) throw badRequest('broadcasterId must be a Twitch user id');
    const now = Date.now();
    const from = new Date((Math.floor(now / MINUTE_MS) - PER_MINUTE_BUCKETS + 1) * MINUTE_MS);
    const to = new Date(from.getTime() + PER_MINUTE_BUCKETS * MINUTE_MS);
    res.json(perMinuteCounts(from, await history.countsPerMinute(id.data, from, to)));
  };
}
