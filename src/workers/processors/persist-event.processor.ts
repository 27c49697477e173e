import type { Job } from 'bullmq';
import type { PersistEventJob } from '../../shared/queues.js';
import type { StreamEvent } from '../../shared/events/event.js';

export interface EventWriter {
  insert(rows: Array<{ event: StreamEvent; messageId: string | null }>): Promise<number>;
}

/** Stores an event; a second insert of the same event is a no-op, so retries are safe. */
export function createPersistEventProcessor(deps: { store: EventWriter }) {
  return async function persistEvent(job: Job<PersistEventJob>): Promise<{ inserted: number }> {
    const inserted = await deps.store.insert([
      { event: job.data.event, messageId: job.data.messageId },
    ]);
    return { inserted };
  };
}
