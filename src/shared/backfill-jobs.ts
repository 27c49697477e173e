import type { Queue } from 'bullmq';
import { JOBS, enqueue, type BackfillFollowsJob } from './queues.js';

/** The scope that lets streamfeed list a streamer's followers (Helix `GET /channels/followers`). */
export const FOLLOWERS_SCOPE = 'moderator:read:followers';

/**
 * Queues a follow backfill of one streamer after `delayMs`. Triggers within that delay add
 * nothing (a fleet of processors starting at once asks once), but one that comes while a run is
 * under way queues another: that run may have asked Helix before the trigger's subscription was
 * live again. Each run looks from the newest follow streamfeed holds, so runs never add twice.
 */
export async function queueFollowBackfill(
  queue: Queue,
  broadcasterId: string,
  reason: BackfillFollowsJob['reason'],
  delayMs: number,
): Promise<void> {
  await enqueue(
    queue,
    JOBS.backfillFollows,
    { broadcasterId, reason },
    {
      delay: delayMs,
      deduplication: { id: `backfill:${broadcasterId}`, ttl: Math.max(1, delayMs) },
    },
  );
}
