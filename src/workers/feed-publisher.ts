import type { RedisClient } from '../shared/connections/redis.js';
import type { NotifyEventJob } from '../shared/queues.js';
import { byStreamer, encodeFeedMessage, feedChannel } from '../shared/feed/feed-channels.js';

export interface FeedPublisher {
  /** Each streamer's events of the batch as one message on that streamer's channel. */
  publish(notifications: NotifyEventJob[]): Promise<void>;
}

/**
 * Publishes to per-streamer channels (feed-channels.ts) rather than through
 * @socket.io/redis-emitter, whose one channel every realtime node decodes in full: a node now
 * receives only the streamers its own sockets watch (ARCHITECTURE.md, "Delivery"). A job
 * completes once Redis has taken every message.
 */
export function createFeedPublisher(redis: RedisClient, prefix: string): FeedPublisher {
  return {
    async publish(notifications) {
      await Promise.all(
        [...byStreamer(notifications)].map(([broadcasterId, group]) =>
          redis.publish(feedChannel(prefix, broadcasterId), encodeFeedMessage(group)),
        ),
      );
    },
  };
}
