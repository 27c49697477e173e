import type { Job } from 'bullmq';
import {
  isEventNotification,
  type NotifyEventJob,
  type NotifyEventsJob,
} from '../../shared/queues.js';
import type { FeedPublisher } from '../feed-publisher.js';
import type { EmitterMetrics } from '../pipeline-metrics.js';

/** Hands processed events to every realtime node; they deliver each to its streamer's room. */
export function createNotifyEventsProcessor(deps: {
  publisher: FeedPublisher;
  metrics?: EmitterMetrics;
}) {
  return async function notifyEvents(job: Job<NotifyEventsJob | NotifyEventJob>): Promise<void> {
    const notifications = 'notifications' in job.data ? job.data.notifications : [job.data];
    await deps.publisher.publish(notifications);
    for (const notification of notifications) {
      if (isEventNotification(notification)) deps.metrics?.emitted(notification);
    }
  };
}
