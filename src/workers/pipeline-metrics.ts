import { Counter, Histogram, type Registry } from 'prom-client';
import type { NotifyEventJob } from '../shared/queues.js';

/** Why the processor dropped a callback or an event as already seen. */
export const DUPLICATE_KINDS = ['message', 'content', 'event'] as const;
export type DuplicateKind = (typeof DUPLICATE_KINDS)[number];

export interface ProcessorMetrics {
  processed(type: string): void;
  duplicate(kind: DuplicateKind): void;
}

export function createProcessorMetrics(registry: Registry): ProcessorMetrics {
  const events = new Counter({
    name: 'streamfeed_events_processed_total',
    help: 'New events cached and queued for delivery and storage, by EventSub type',
    labelNames: ['type'],
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'streamfeed_dedupe_hits_total',
    help: 'Callbacks or events dropped as already seen: message (message id already processed), content (same content re-sent under a new id within the dedupe window), event (event id already in the feed)',
    labelNames: ['kind'],
    registers: [registry],
  });
  // Present from the start, so that rate() over them works before the first duplicate.
  for (const kind of DUPLICATE_KINDS) duplicates.inc({ kind }, 0);
  return {
    processed: (type) => events.inc({ type }),
    duplicate: (kind) => duplicates.inc({ kind }),
  };
}

export interface EmitterMetrics {
  emitted(job: NotifyEventJob, now?: number): void;
}

export function createEmitterMetrics(registry: Registry): EmitterMetrics {
  const emits = new Counter({
    name: 'streamfeed_emits_total',
    help: 'Events handed to the realtime fleet',
    registers: [registry],
  });
  const lag = new Histogram({
    name: 'streamfeed_event_lag_seconds',
    help: "Time from Twitch's message timestamp to the emit to the realtime fleet",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  return {
    emitted(job, now = Date.now()) {
      emits.inc();
      const sentAt = job.sentAt === undefined ? NaN : Date.parse(job.sentAt);
      if (Number.isFinite(sentAt)) lag.observe(Math.max(0, now - sentAt) / 1000);
    },
  };
}
