import { io, type Socket } from 'socket.io-client';
import { api, type FeedEvent } from './api.js';

type State = 'connecting' | 'live' | 'reconnecting' | 'offline';
const LABELS: Record<State, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline: retrying',
};

/**
 * One socket to the realtime fleet. Every (re)connection fetches a fresh token and watches with
 * `since` = the newest event shown, so a reconnect catches up without gaps or repeats.
 */
export async function connectLiveFeed(options: {
  broadcasterId: string;
  newestId: () => string | undefined;
  onEvents: (events: FeedEvent[]) => void;
  onState: (state: State, label: string) => void;
  /**
   * The events after `since`, oldest first, when the realtime node no longer had them all; null
   * when too many were missed to show them all.
   */
  fetchMissed: (since: string) => Promise<FeedEvent[] | null>;
  /** Shows these (oldest first) instead of what is shown: the rest cannot be filled in. */
  onReset: (events: FeedEvent[]) => void;
}): Promise<Socket> {
  const { url } = await api.realtimeToken();
  const setState = (state: State) => options.onState(state, LABELS[state]);
  setState('connecting');
  const socket = io(url, {
    path: '/socket.io',
    transports: ['websocket'],
    auth: (cb) => {
      api.realtimeToken().then(
        ({ token }) => cb({ token }),
        () => cb({}),
      );
    },
  });
  // Live events that arrive while missed ones are fetched wait, so that the list stays in order.
  let held: FeedEvent[] | null = null;
  socket.on('connect', () => {
    const since = options.newestId();
    socket.emit(
      'watch',
      since
        ? { broadcasterId: options.broadcasterId, since }
        : { broadcasterId: options.broadcasterId },
      (ack: { ok: boolean; backlog?: FeedEvent[]; complete?: boolean }) => {
        if (!ack.ok) return setState('offline');
        const backlog = ack.backlog ?? [];
        if (ack.complete !== false || !since) {
          options.onEvents(backlog);
          setState('live');
          return;
        }
        // Away for longer than the live cache holds: the rest comes from the event history.
        const waiting: FeedEvent[] = [];
        held = waiting;
        void options
          .fetchMissed(since)
          .catch(() => null)
          .then((missed) => {
            // A reconnect meanwhile started its own catch-up from the same point.
            if (held !== waiting) return;
            const latest = [...backlog, ...waiting];
            if (missed) options.onEvents([...missed, ...latest]);
            else options.onReset(latest);
            held = null;
            setState('live');
          });
      },
    );
  });
  socket.on('event', (event: FeedEvent) => {
    if (held) held.push(event);
    else options.onEvents([event]);
  });
  socket.on('disconnect', () => setState('reconnecting'));
  socket.on('connect_error', () => setState('offline'));
  socket.io.on('reconnect_attempt', () => setState('reconnecting'));
  return socket;
}
