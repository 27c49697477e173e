import { io, type Socket } from 'socket.io-client';
import { api, type FeedEvent } from './api.js';
import { createBackoff } from './backoff.js';

type State = 'connecting' | 'live' | 'reconnecting' | 'offline';
const LABELS: Record<State, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline: retrying',
};
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;
const WATCH_TIMEOUT_MS = 15_000;

export interface ReplayedEvent {
  replayId: string;
  replayedAt: string;
  event: FeedEvent;
}

interface WatchAck {
  ok: boolean;
  backlog?: FeedEvent[];
  complete?: boolean;
}

export interface LiveFeed {
  /** Closes the socket and stops every retry. */
  close(): void;
}

/**
 * One socket to the realtime fleet. Every (re)connection fetches a fresh token and watches with
 * `since` = the newest event shown, so a reconnect catches up without gaps or repeats. What
 * socket.io-client does not retry by itself (a handshake the node refused, for a missing token
 * or too many connections, a failed token request, a failed watch) is retried here, with a
 * growing, jittered delay, until the feed is live again.
 */
export function connectLiveFeed(options: {
  broadcasterId: string;
  newestId: () => string | undefined;
  onEvents: (events: FeedEvent[]) => void;
  /** A new state of an entry shown (a follow wave that grew). */
  onUpdated: (event: FeedEvent) => void;
  /** A stored event played again: mark it, it is not a new one. */
  onReplayed: (replay: ReplayedEvent) => void;
  onState: (state: State, label: string) => void;
  /**
   * The events after `since`, oldest first, when the realtime node no longer had them all; null
   * when too many were missed to show them all.
   */
  fetchMissed: (since: string) => Promise<FeedEvent[] | null>;
  /** Shows these (oldest first) instead of what is shown: the rest cannot be filled in. */
  onReset: (events: FeedEvent[]) => void;
}): LiveFeed {
  const setState = (state: State) => options.onState(state, LABELS[state]);
  const backoff = createBackoff(RETRY_MIN_MS, RETRY_MAX_MS);
  let current: Socket | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  /** One retry at a time, however many failures ask for it. */
  function retryLater(): void {
    if (closed || retryTimer !== undefined) return;
    setState('offline');
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (closed) return;
      if (current) current.connect();
      else void open();
    }, backoff.next());
  }

  async function open(): Promise<void> {
    setState('connecting');
    let first: { url: string; token: string };
    try {
      first = await api.realtimeToken();
    } catch {
      return retryLater();
    }
    if (closed) return;
    current = createSocket(first.url, first.token);
  }

  function createSocket(url: string, firstToken: string): Socket {
    let unusedToken: string | undefined = firstToken;
    const socket = io(url, {
      path: '/socket.io',
      transports: ['websocket'],
      auth: (cb) => {
        const token = unusedToken;
        unusedToken = undefined;
        if (token) return cb({ token });
        api.realtimeToken().then(
          (fresh) => {
            if (!closed) cb({ token: fresh.token });
          },
          // No token, no handshake: the node would only refuse it.
          () => {
            socket.disconnect();
            retryLater();
          },
        );
      },
    });
    // Live events that arrive while missed ones are fetched wait, so that the list stays in order.
    let held: FeedEvent[] | null = null;
    const failedWatch = () => {
      socket.disconnect();
      retryLater();
    };
    socket.on('connect', () => {
      // A catch-up of an earlier connection is left unfinished: this one starts from the same point.
      held = null;
      const since = options.newestId();
      socket
        .timeout(WATCH_TIMEOUT_MS)
        .emit(
          'watch',
          since
            ? { broadcasterId: options.broadcasterId, since }
            : { broadcasterId: options.broadcasterId },
          (error: Error | null, ack: WatchAck) => {
            if (error || !ack.ok) return failedWatch();
            const backlog = ack.backlog ?? [];
            if (ack.complete !== false || !since) {
              options.onEvents(backlog);
              goneLive();
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
                goneLive();
              });
          },
        );
    });
    socket.on('event', (event: FeedEvent) => {
      if (held) held.push(event);
      else options.onEvents([event]);
    });
    // Neither is a row: applied at once, whatever a catch-up holds (the list keeps an update
    // for a row not there yet).
    socket.on('event:updated', (event: FeedEvent) => options.onUpdated(event));
    socket.on('event:replayed', (replay: ReplayedEvent) => options.onReplayed(replay));
    socket.on('disconnect', () => {
      setState('reconnecting');
      // The node said goodbye (or this page hung up to retry): no automatic reconnect follows.
      if (!socket.active) retryLater();
    });
    socket.on('connect_error', () => {
      setState('offline');
      // A refusal by the node's middleware: socket.io-client leaves it there for good.
      if (!socket.active) retryLater();
    });
    socket.io.on('reconnect_attempt', () => setState('reconnecting'));
    return socket;
  }

  function goneLive(): void {
    backoff.reset();
    setState('live');
  }

  void open();
  return {
    close() {
      closed = true;
      clearTimeout(retryTimer);
      current?.disconnect();
    },
  };
}
