import type { Job } from 'bullmq';
import type { NotifyEventJob } from '../../shared/queues.js';
import type { FeedPublisher } from '../feed-publisher.js';
import type { EmitterMetrics } from '../pipeline-metrics.js';

/** Hands a processed event to every realtime node; they deliver it to the streamer's room. */
export function createNotifyEventProcessor(deps: {
  publisher: FeedPublisher;
  metrics?: EmitterMetrics;
}) {
  return async function notifyEvent(job: Job<NotifyEventJob>): Promise<void> {
    await deps.publisher.publish(job.data);
    deps.metrics?.emitted(job.data);
  };
}
