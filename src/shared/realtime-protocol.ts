import type { StreamEvent } from './events/event.js';

/**
 * Server-to-server messages from emitters to every realtime node (not seen by browsers):
 * `feed:events` carries a batch of notifications; `feed:event`, one, from emitters that predate
 * batching, so that a rolling deploy loses nothing.
 */
export const FEED_EVENTS = 'feed:events';
export const FEED_EVENT = 'feed:event';

/** The Redis channel prefix of the Socket.IO adapter and emitter; both must agree. */
export const socketIoKey = (redisPrefix: string): string => `${redisPrefix}:socket.io`;

export interface WatchRequest {
  broadcasterId: string;
  since?: string;
}

/**
 * `backlog`: the cached events after `since` (or the latest 10 without it), oldest first.
 * `complete` is false when some events after `since` are older than the feed cache holds: the
 * backlog then has only the newest cached ones, and the client fetches the rest from
 * `GET /api/streamers/:id/events?before=<the backlog's oldest id>`.
 */
export type WatchAck =
  { ok: true; backlog: StreamEvent[]; complete: boolean } | { ok: false; error: string };
export type UnwatchAck = { ok: true } | { ok: false; error: string };

/** `event:replayed`: a stored event played again; not a new event, so not a new row. */
export interface ReplayedEvent {
  /** Unique per replay request. */
  replayId: string;
  /** ISO 8601: when the replay was asked for. */
  replayedAt: string;
  event: StreamEvent;
}

export interface ServerToClientEvents {
  event: (event: StreamEvent) => void;
  /** A new state of an entry the watcher has (a follow wave that grew), with the same id. */
  'event:updated': (event: StreamEvent) => void;
  'event:replayed': (replay: ReplayedEvent) => void;
}

export interface ClientToServerEvents {
  watch: (request: WatchRequest, ack: (response: WatchAck) => void) => void;
  unwatch: (request: { broadcasterId: string }, ack: (response: UnwatchAck) => void) => void;
}
