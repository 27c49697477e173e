import type { Queue } from 'bullmq';
import { JOBS, enqueue } from './queues.js';

/**
 * Priorities of `ensure-subscriptions` jobs (BullMQ: lower runs first, FIFO within one). A
 * viewer's job gets their count of favourite changes in the current rate-limit window, so one
 * viewer's churn queues behind everyone else's first change; reconciliation's re-ensures of
 * streamers that already have subscriptions wait behind every viewer.
 */
export const ENSURE_PRIORITY = { streamer: 1, viewerMax: 999, reconcile: 1000 } as const;

export type EnsureCause =
  { by: 'viewer'; changesInWindow: number } | { by: 'streamer' } | { by: 'reconcile' };

export function priorityOf(cause: EnsureCause): number {
  switch (cause.by) {
    case 'viewer':
      return Math.min(Math.max(1, Math.floor(cause.changesInWindow)), ENSURE_PRIORITY.viewerMax);
    case 'streamer':
      return ENSURE_PRIORITY.streamer;
    case 'reconcile':
      return ENSURE_PRIORITY.reconcile;
  }
}

/** Queues an ensure of one streamer's subscriptions, prioritised by who asked for it. */
export async function queueEnsureSubscriptions(
  queue: Queue,
  broadcasterId: string,
  cause: EnsureCause,
): Promise<void> {
  await enqueue(
    queue,
    JOBS.ensureSubscriptions,
    { broadcasterId },
    {
      priority: priorityOf(cause),
      // A reconciliation round that has not drained yet adds no second job per streamer.
      ...(cause.by === 'reconcile' ? { deduplication: { id: `reconcile:${broadcasterId}` } } : {}),
    },
  );
}
