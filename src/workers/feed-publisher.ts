import { isCluster, type RedisClient } from '../shared/connections/redis.js';
import type { FeedNotification } from '../shared/queues.js';
import { byStreamer, encodeFeedMessage, feedChannel } from '../shared/feed/feed-channels.js';

export interface FeedPublisher {
  /** Each streamer's events of the batch as one message on that streamer's channel. */
  publish(notifications: FeedNotification[]): Promise<void>;
}

/**
 * Publishes to per-streamer channels (feed-channels.ts) rather than through
 * @socket.io/redis-emitter, whose one channel every realtime node decodes in full: a node now
 * receives only the streamers its own sockets watch (ARCHITECTURE.md, "Delivery"). On a Redis
 * Cluster the publish is sharded (SPUBLISH): it stays on the shard that owns the streamer, where
 * a plain PUBLISH would be copied to every node of the cluster. A job completes once Redis has
 * taken every message.
 */
export function createFeedPublisher(redis: RedisClient, prefix: string): FeedPublisher {
  const send = isCluster(redis)
    ? (channel: string, message: string) => redis.spublish(channel, message)
    : (channel: string, message: string) => redis.publish(channel, message);
  return {
    async publish(notifications) {
      await Promise.all(
        [...byStreamer(notifications)].map(([broadcasterId, group]) =>
          send(feedChannel(prefix, broadcasterId), encodeFeedMessage(group)),
        ),
      );
    },
  };
}
