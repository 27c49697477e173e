import { isCluster, type RedisClient } from '../shared/connections/redis.js';
import type { Logger } from '../shared/logger.js';
import type { FeedNotification } from '../shared/queues.js';
import { decodeFeedMessage, feedChannel } from '../shared/feed/feed-channels.js';

export interface FeedSubscriptions {
  /** Resolves once Redis confirms the subscription: from then on no publish is missed. */
  subscribe(broadcasterId: string): Promise<void>;
  unsubscribe(broadcasterId: string): void;
  readonly size: number;
}

/** The three pub/sub operations, plain on a single Redis and sharded on a Cluster. */
function pubSubOf(subscriber: RedisClient) {
  if (isCluster(subscriber)) {
    // ioredis routes each SSUBSCRIBE to its own connection to the master owning the channel's
    // slot (one per master, `shardedSubscribers: true`), and subscribes again after a slot moves.
    if (!subscriber.options.shardedSubscribers) {
      throw new Error(
        'A Cluster feed subscriber needs the ioredis option shardedSubscribers: true',
      );
    }
    return {
      event: 'smessage',
      subscribe: (channel: string) => subscriber.ssubscribe(channel),
      unsubscribe: (channel: string) => subscriber.sunsubscribe(channel),
    } as const;
  }
  return {
    event: 'message',
    subscribe: (channel: string) => subscriber.subscribe(channel),
    unsubscribe: (channel: string) => subscriber.unsubscribe(channel),
  } as const;
}

/**
 * This node's subscriptions to the channels of the streamers its sockets watch, on a connection
 * of their own (`subscriber`, which waits for Redis forever and resubscribes after a reconnect or,
 * on a Cluster, after a slot moved). Messages published while it was away are lost: the room
 * feeds fill such gaps from the cache at the streamer's next event.
 */
export function createFeedSubscriptions(options: {
  subscriber: RedisClient;
  prefix: string;
  onNotifications: (notifications: FeedNotification[]) => void;
  log: Logger;
}): FeedSubscriptions {
  const { subscriber, prefix, log } = options;
  const pubSub = pubSubOf(subscriber);
  const subscribed = new Map<string, Promise<void>>();
  const leave = (broadcasterId: string) => {
    // Commands on one connection run in order: a subscribe sent after this one wins.
    pubSub.unsubscribe(feedChannel(prefix, broadcasterId)).catch((error: Error) => {
      log.warn(
        { err: error, broadcasterId },
        `Unsubscribe from ${broadcasterId}: ${error.message}`,
      );
    });
  };
  subscriber.on(pubSub.event, (channel: string, message: string) => {
    const notifications = decodeFeedMessage(message);
    if (notifications) options.onNotifications(notifications);
    else log.warn({ channel }, `Ignored a message on ${channel} that is not a feed message`);
  });
  return {
    subscribe(broadcasterId) {
      let done = subscribed.get(broadcasterId);
      if (!done) {
        const attempt = pubSub.subscribe(feedChannel(prefix, broadcasterId)).then(() => undefined);
        subscribed.set(broadcasterId, attempt);
        // A failed subscribe is tried again by the next watcher, not remembered as done. ioredis
        // still holds the channel for its next resubscription (a Cluster does after a MOVED
        // reply), so it is dropped there too; this runs before the watcher's own retry.
        attempt.catch(() => {
          if (subscribed.get(broadcasterId) !== attempt) return;
          subscribed.delete(broadcasterId);
          leave(broadcasterId);
        });
        done = attempt;
      }
      return done;
    },
    unsubscribe(broadcasterId) {
      if (subscribed.delete(broadcasterId)) leave(broadcasterId);
    },
    get size() {
      return subscribed.size;
    },
  };
}
