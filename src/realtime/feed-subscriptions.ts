import type { RedisClient } from '../shared/connections/redis.js';
import type { Logger } from '../shared/logger.js';
import type { NotifyEventJob } from '../shared/queues.js';
import { decodeFeedMessage, feedChannel } from '../shared/feed/feed-channels.js';

export interface FeedSubscriptions {
  /** Resolves once RedisClient confirms the subscription: from then on no publish is missed. */
  subscribe(broadcasterId: string): Promise<void>;
  unsubscribe(broadcasterId: string): void;
  readonly size: number;
}

/**
 * This node's subscriptions to the channels of the streamers its sockets watch, on a connection
 * of their own (`subscriber`, which waits for Redis forever and resubscribes after a reconnect).
 * Messages published while it was away are lost: the room feeds fill such gaps from the cache.
 */
export function createFeedSubscriptions(options: {
  subscriber: RedisClient;
  prefix: string;
  onNotifications: (notifications: NotifyEventJob[]) => void;
  log: Logger;
}): FeedSubscriptions {
  const { subscriber, prefix, log } = options;
  const subscribed = new Map<string, Promise<void>>();
  subscriber.on('message', (channel: string, message: string) => {
    const notifications = decodeFeedMessage(message);
    if (notifications) options.onNotifications(notifications);
    else log.warn({ channel }, `Ignored a message on ${channel} that is not a feed message`);
  });
  return {
    subscribe(broadcasterId) {
      let done = subscribed.get(broadcasterId);
      if (!done) {
        done = subscriber.subscribe(feedChannel(prefix, broadcasterId)).then(() => undefined);
        subscribed.set(broadcasterId, done);
        // A failed subscribe is tried again by the next watcher, not remembered as done.
        done.catch(() => subscribed.delete(broadcasterId));
      }
      return done;
    },
    unsubscribe(broadcasterId) {
      if (!subscribed.delete(broadcasterId)) return;
      // Commands on one connection run in order: a subscribe sent after this one wins.
      subscriber.unsubscribe(feedChannel(prefix, broadcasterId)).catch((error: Error) => {
        log.warn(
          { err: error, broadcasterId },
          `Unsubscribe from ${broadcasterId}: ${error.message}`,
        );
      });
    },
    get size() {
      return subscribed.size;
    },
  };
}
