import type { FeedCache } from '../shared/feed/feed-cache.js';
import type { FeedNotification } from '../shared/queues.js';
import { RoomFeed, type LocalDelivery } from './room-feed.js';
import type { FeedSubscriptions } from './feed-subscriptions.js';

/**
 * The room feeds of the streamers that sockets on this node watch; nothing for the rest. A feed
 * subscribes to its streamer's channel when it is made (the first local watcher) and
 * unsubscribes when it is dropped (the last one left).
 */
export function createRoomFeeds(
  cache: FeedCache,
  delivery: LocalDelivery,
  onError: (error: unknown) => void,
  subscriptions?: Pick<FeedSubscriptions, 'subscribe' | 'unsubscribe'>,
) {
  const feeds = new Map<string, RoomFeed>();
  return {
    get(broadcasterId: string): RoomFeed {
      let feed = feeds.get(broadcasterId);
      if (!feed) {
        feed = new RoomFeed(
          broadcasterId,
          cache,
          delivery,
          onError,
          subscriptions && (() => subscriptions.subscribe(broadcasterId)),
        );
        feeds.set(broadcasterId, feed);
      }
      return feed;
    },
    /** Drops a feed once no socket on this node is in its room. */
    release(broadcasterId: string, localWatchers: number): void {
      const feed = feeds.get(broadcasterId);
      if (!feed || localWatchers > 0) return;
      feed.closed = true;
      feeds.delete(broadcasterId);
      subscriptions?.unsubscribe(broadcasterId);
    },
    onNotification(notification: FeedNotification): void {
      const feed = feeds.get(notification.broadcasterId);
      if (!feed) return;
      if ('event' in notification) void feed.deliver(notification.seq, notification.event);
      else if ('updated' in notification) void feed.update(notification.seq, notification.updated);
      else if ('replayed' in notification) {
        const { replayId, replayedAt, replayed: event } = notification;
        void feed.replay({ replayId, replayedAt, event });
      }
    },
    get size() {
      return feeds.size;
    },
  };
}
export type RoomFeeds = ReturnType<typeof createRoomFeeds>;
