import type { FeedNotification } from '../queues.js';

/**
 * The pub/sub channel of one streamer's live events. It carries the streamer's `{...}` hash tag,
 * as its feed keys do, so that on a Redis Cluster a sharded publish stays on the shard that owns
 * the streamer.
 */
export const feedChannel = (prefix: string, broadcasterId: string): string =>
  `${prefix}:feed:{${broadcasterId}}:live`;

/** One message per streamer and batch: that streamer's notifications, in processing order. */
export const encodeFeedMessage = (notifications: FeedNotification[]): string =>
  JSON.stringify(notifications);

/** The notifications of a feed message, or null for a message that is not one. */
export function decodeFeedMessage(message: string): FeedNotification[] | null {
  try {
    const parsed: unknown = JSON.parse(message);
    return Array.isArray(parsed) ? (parsed as FeedNotification[]) : null;
  } catch {
    return null;
  }
}

/** A batch's notifications grouped by streamer, each group in the batch's order. */
export function byStreamer(notifications: FeedNotification[]): Map<string, FeedNotification[]> {
  const groups = new Map<string, FeedNotification[]>();
  for (const notification of notifications) {
    const group = groups.get(notification.broadcasterId);
    if (group) group.push(notification);
    else groups.set(notification.broadcasterId, [notification]);
  }
  return groups;
}
