import type { Queue } from 'bullmq';
import { JOBS, enqueue, type BackfillFollowsJob } from './queues.js';

/** The scope that lets streamfeed list a streamer's followers (Helix `GET /channels/followers`). */
export const FOLLOWERS_SCOPE = 'moderator:read:followers';

/**
 * Queues a follow backfill of one streamer after `delayMs`. While one is queued or running, more
 * triggers add nothing (a fleet of processors starting at once asks once): the run looks from
 * the newest follow streamfeed holds, so a later trigger's gap is covered by the next run.
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
    { delay: delayMs, deduplication: { id: `backfill:${broadcasterId}` } },
  );
}
