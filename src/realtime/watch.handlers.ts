import { z } from 'zod';
import type { Socket } from 'socket.io';
import type { Logger } from '../shared/logger.js';
import type {
  ClientToServerEvents,
  ServerToClientEvents,
  UnwatchAck,
  WatchAck,
} from '../shared/realtime-protocol.js';
import type { RoomFeeds } from './room-feeds.js';

export type ViewerSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;
export interface SocketData {
  userId: string;
  watching: Set<string>;
}

export interface WatchDeps {
  feeds: RoomFeeds;
  localWatchers: (room: string) => number;
  maxWatchesPerSocket: number;
  backlogSize: number;
  log: Logger;
}

const broadcasterId = z
  .string()
  .regex(/^[0-9A-Za-z_]{1,64}$/, 'broadcasterId must be a Twitch user id');
const watchSchema = z.object({ broadcasterId, since: z.string().min(1).max(128).optional() });
const unwatchSchema = z.object({ broadcasterId });

const problem = (error: z.ZodError) => error.issues.map((i) => i.message).join('; ');
/** A client that sends no ack function gets nothing back, but must not crash the node. */
const ackOf = <T>(ack: unknown): ((response: T) => void) =>
  typeof ack === 'function' ? (ack as (response: T) => void) : () => undefined;

export function onWatch(socket: ViewerSocket, deps: WatchDeps) {
  return async (request: unknown, rawAck: unknown): Promise<void> => {
    const ack = ackOf<WatchAck>(rawAck);
    const parsed = watchSchema.safeParse(request);
    if (!parsed.success) return ack({ ok: false, error: problem(parsed.error) });
    const { broadcasterId: id, since } = parsed.data;
    const { watching } = socket.data;
    if (!watching.has(id) && watching.size >= deps.maxWatchesPerSocket) {
      return ack({
        ok: false,
        error: `a connection may watch at most ${deps.maxWatchesPerSocket} streamers`,
      });
    }
    watching.add(id);
    try {
      for (;;) {
        const feed = deps.feeds.get(id);
        const backlog = await feed.join(
          socket.id,
          () => void socket.join(feed.room),
          since,
          deps.backlogSize,
        );
        if (backlog === null) continue;
        ack({ ok: true, backlog: backlog.events, complete: backlog.complete });
        feed.release(socket.id);
        return;
      }
    } catch (error) {
      deps.log.error(
        { err: error, socketId: socket.id, broadcasterId: id },
        `watch ${id} failed for socket ${socket.id}`,
      );
      ack({ ok: false, error: 'the event feed is unavailable right now; please retry' });
    }
  };
}

export function onUnwatch(socket: ViewerSocket, deps: WatchDeps) {
  return async (request: unknown, rawAck: unknown): Promise<void> => {
    const ack = ackOf<UnwatchAck>(rawAck);
    const parsed = unwatchSchema.safeParse(request);
    if (!parsed.success) return ack({ ok: false, error: problem(parsed.error) });
    leave(socket, parsed.data.broadcasterId, deps);
    await Promise.resolve();
    ack({ ok: true });
  };
}

export function leave(socket: ViewerSocket, id: string, deps: WatchDeps): void {
  socket.data.watching.delete(id);
  const feed = deps.feeds.get(id);
  feed.forget(socket.id);
  void socket.leave(feed.room);
  deps.feeds.release(id, deps.localWatchers(feed.room));
}
