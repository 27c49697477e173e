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
  socket.on('connect', () => {
    const since = options.newestId();
    socket.emit(
      'watch',
      since
        ? { broadcasterId: options.broadcasterId, since }
        : { broadcasterId: options.broadcasterId },
      (ack: { ok: boolean; backlog?: FeedEvent[] }) => {
        if (!ack.ok) return setState('offline');
        options.onEvents(ack.backlog ?? []);
        setState('live');
      },
    );
  });
  socket.on('event', (event: FeedEvent) => options.onEvents([event]));
  socket.on('disconnect', () => setState('reconnecting'));
  socket.on('connect_error', () => setState('offline'));
  socket.io.on('reconnect_attempt', () => setState('reconnecting'));
  return socket;
}
