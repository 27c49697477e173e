import { UnrecoverableError, type Job } from 'bullmq';
import { UnstorableEventError } from '../../shared/db/event-store.js';
import type { PersistEventJob, PersistEventsJob } from '../../shared/queues.js';
import type { StreamEvent } from '../../shared/events/event.js';

export interface EventWriter {
  insert(
    rows: Array<{ event: StreamEvent; messageId: string | null; seq?: number }>,
  ): Promise<number>;
}

/** An error PostgreSQL answered about the statement (it has a SQLSTATE and a severity). */
const isStatementError = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && 'severity' in error && 'code' in error;

// Either way, one event at a time shows which events cannot be stored.
const isPerEvent = (error: unknown): boolean =>
  isStatementError(error) || error instanceof UnstorableEventError;

const FAILURES_NAMED = 3;

/**
 * Stores a batch of events in one insert; an event already stored is skipped, so retries are
 * safe. When the insert fails, each event is tried alone, so that one event that cannot be
 * stored now (a locked partition, a statement timeout) does not hold back the rest of its
 * batch; the job then fails naming it, and its retries re-insert only that one for real. When
 * PostgreSQL cannot be reached at all, one at a time would fail the same way: the job just fails.
 * When all that is left are events no retry can store (not a time at all), the job fails for
 * good at once, kept in the failed list with them, instead of retrying for 100 minutes.
 */
export function createPersistEventsProcessor(deps: { store: EventWriter }) {
  return async function persistEvents(
    job: Job<PersistEventsJob | PersistEventJob>,
  ): Promise<{ inserted: number }> {
    const rows = 'rows' in job.data ? job.data.rows : [job.data];
    try {
      return { inserted: await deps.store.insert(rows) };
    } catch (error) {
      if (rows.length === 1 && error instanceof UnstorableEventError) {
        throw new UnrecoverableError(`1 of 1 events cannot be stored: ${error.message}`);
      }
      if (rows.length === 1 || !isPerEvent(error)) throw error;
      let inserted = 0;
      const failures: string[] = [];
      let retryable = false;
      for (const row of rows) {
        try {
          inserted += await deps.store.insert([row]);
        } catch (rowError) {
          retryable ||= !(rowError instanceof UnstorableEventError);
          failures.push(`${row.event.id}: ${(rowError as Error).message}`);
        }
      }
      if (failures.length > 0) {
        const more = failures.length - FAILURES_NAMED;
        const message =
          `${failures.length} of ${rows.length} events not stored (${inserted} stored alone): ` +
          failures.slice(0, FAILURES_NAMED).join('; ') +
          (more > 0 ? `; and ${more} more` : '');
        if (!retryable) throw new UnrecoverableError(`${message} (none can be stored)`);
        throw new Error(message, { cause: error });
      }
      return { inserted };
    }
  };
}
