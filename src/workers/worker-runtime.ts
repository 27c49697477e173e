import { Worker, type Job, type ConnectionOptions } from 'bullmq';
import type { Logger } from '../shared/logger.js';
import { reportErrors } from '../shared/connections/redis.js';
import {
  CAPPED_BACKOFF,
  JOB_QUEUE,
  bullPrefix,
  cappedExponentialBackoff,
  queueKindOf,
  type JobName,
} from '../shared/queues.js';

type Handler = (job: Job) => Promise<unknown>;

export interface WorkerOptions {
  /** The BullMQ queue: a shard's name (queueShardName), or one of earlier versions. */
  queue: string;
  handlers: Partial<Record<JobName, Handler>>;
  connection: ConnectionOptions;
  redisPrefix: string;
  concurrency: number;
  /** How long a job stays locked to a worker that stops answering before another takes it. */
  lockMs: number;
  /** At most `max` jobs per `duration` ms across every worker of the queue (Helix's bucket). */
  limiter?: { max: number; duration: number };
  log: Logger;
}

const loudAttempt = (attempt: number) => attempt <= 3 || attempt % 10 === 0;

/**
 * A BullMQ worker that refuses to start unless every job of its queue has a handler, logs each
 * failure with its ids, and rethrows so that BullMQ retries with backoff.
 */
export function createWorker(options: WorkerOptions): Worker {
  const kind = queueKindOf(options.queue);
  if (!kind) throw new Error(`Queue ${options.queue} is none of streamfeed's`);
  const expected = (Object.keys(JOB_QUEUE) as JobName[]).filter((name) => JOB_QUEUE[name] === kind);
  const missing = expected.filter((name) => !options.handlers[name]);
  if (missing.length) {
    throw new Error(`Queue ${options.queue} has no handler for: ${missing.join(', ')}`);
  }

  const log = options.log.child({ scope: 'worker', queue: options.queue });
  const worker = new Worker(
    options.queue,
    async (job: Job) => {
      const handler = options.handlers[job.name as JobName];
      if (!handler) throw new Error(`No handler for job ${job.name} on queue ${options.queue}`);
      return handler(job);
    },
    {
      connection: options.connection,
      prefix: bullPrefix(options.redisPrefix),
      concurrency: options.concurrency,
      lockDuration: options.lockMs,
      stalledInterval: options.lockMs,
      maxStalledCount: 2,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string) =>
          type === CAPPED_BACKOFF ? cappedExponentialBackoff(attemptsMade) : 1000,
      },
      ...(options.limiter ? { limiter: options.limiter } : {}),
    },
  );
  worker.on('failed', (job, error) => {
    if (!job) return;
    const final =
      job.attemptsMade >= (job.opts.attempts ?? 1) || error.name === 'UnrecoverableError';
    // A job that retries for long (eventPersist: 200 attempts during an outage) says so at its
    // first attempts and then every tenth, not 200 times; the metrics count every failure.
    const level = final ? 'error' : loudAttempt(job.attemptsMade) ? 'warn' : 'debug';
    log[level](
      { err: error, jobId: job.id, job: job.name, attempt: job.attemptsMade },
      `Job ${job.name} ${job.id} failed (attempt ${job.attemptsMade})${final ? ', giving up: it stays in the failed list' : ', will retry'}: ${error.message}`,
    );
  });
  // Said once per cause, not once per reconnect attempt while Redis is away.
  reportErrors(worker, `Worker on ${options.queue}`, log);
  return worker;
}
