import { Emitter } from '@socket.io/redis-emitter';
import type { Redis } from 'ioredis';
import { FEED_EVENTS, socketIoKey } from '../shared/realtime-protocol.js';
import type { NotifyEventJob } from '../shared/queues.js';

export interface FeedPublisher {
  /** One message to every realtime node for the whole batch: one PUBLISH, one decode per node. */
  publish(notifications: NotifyEventJob[]): Promise<void>;
}

/**
 * Publishes through @socket.io/redis-emitter. Its emit is fire-and-forget; we keep the promise of
 * the underlying PUBLISH so that a job only completes once Redis has taken the message.
 */
export function createFeedPublisher(redis: Redis, prefix: string): FeedPublisher {
  let lastPublish: Promise<unknown> = Promise.resolve();
  const client = {
    publish: (channel: string, message: string) => (lastPublish = redis.publish(channel, message)),
  };
  const emitter = new Emitter(client, { key: socketIoKey(prefix) });
  return {
    async publish(notifications) {
      emitter.serverSideEmit(FEED_EVENTS, notifications);
      await lastPublish;
    },
  };
}
