import type { ConnectionOptions, Job, JobType, Worker } from 'bullmq';
import type { Logger } from '../shared/logger.js';
import { reportErrors } from '../shared/connections/redis.js';
import { createNamedQueue, type JobName, type QueueName } from '../shared/queues.js';
import { createWorker } from './worker-runtime.js';

/** States in which a job still has to be worked. */
const UNFINISHED: JobType[] = ['wait', 'active', 'delayed', 'prioritized', 'waiting-children'];

export interface LegacyQueue {
  kind: QueueName;
  handlers: Partial<Record<JobName, (job: Job) => Promise<unknown>>>;
  /** Schedulers that versions before the shards kept on this queue: removed, as new ones run. */
  schedulers?: string[];
  /** 1 for the queues whose jobs must not overlap (Helix's rate limit); 4 otherwise. */
  concurrency?: number;
}

/**
 * The queues of versions before QUEUE_SHARDS, under their bare names (`twitchCallbacks`, ...).
 * A rolling deploy leaves jobs in them (old web nodes still add callbacks; delayed retries wait
 * there), so each is looked at every `checkEveryMs`: a worker runs on it while it holds
 * unfinished jobs and is closed once it is empty, so that a processor holds no connection for
 * a queue that is done. Single Redis only: earlier versions never ran on a cluster, and their
 * untagged keys would span slots there.
 */
export function startLegacyDrain(options: {
  queues: LegacyQueue[];
  connection: ConnectionOptions;
  redisPrefix: string;
  lockMs: number;
  log: Logger;
  checkEveryMs?: number;
}): { close(): Promise<void> } {
  const log = options.log.child({ scope: 'legacy-queues' });
  const drains = options.queues.map((legacy) => {
    const queue = reportErrors(
      createNamedQueue(legacy.kind, options.connection, options.redisPrefix),
      `Queue ${legacy.kind}`,
      log,
    );
    let worker: Worker | undefined;
    const check = async () => {
      // Every time: an earlier processor that restarts mid-deploy upserts its schedule again.
      for (const id of legacy.schedulers ?? []) {
        if (await queue.removeJobScheduler(id)) {
          log.info(`Removed scheduler ${id} of the unsharded queue ${legacy.kind}`);
        }
      }
      const counts = await queue.getJobCounts(...UNFINISHED);
      const left = Object.values(counts).reduce((sum, n) => sum + n, 0);
      if (left > 0 && !worker) {
        log.info(`Draining ${left} job(s) left in the unsharded queue ${legacy.kind}`);
        worker = createWorker({
          queue: legacy.kind,
          handlers: legacy.handlers,
          connection: options.connection,
          redisPrefix: options.redisPrefix,
          concurrency: legacy.concurrency ?? 4,
          lockMs: options.lockMs,
          log,
        });
        // Once it has taken the last waiting job, look again soon rather than in a while.
        worker.on('drained', () => setTimeout(() => void checkSoon(), 1000).unref());
      } else if (left === 0 && worker) {
        const done = worker;
        worker = undefined;
        await done.close();
        log.info(`The unsharded queue ${legacy.kind} is empty: stopped its worker`);
      }
    };
    const checkSoon = () =>
      check().catch((error: Error) =>
        log.warn({ err: error }, `Legacy queue check failed: ${error.message}`),
      );
    return { queue, check, worker: () => worker };
  });
  let stopped = false;
  const checkAll = () =>
    Promise.all(
      drains.map((drain) =>
        drain.check().catch((error: Error) => {
          if (!stopped) log.warn({ err: error }, `Legacy queue check failed: ${error.message}`);
        }),
      ),
    );
  void checkAll();
  const timer = setInterval(() => void checkAll(), options.checkEveryMs ?? 30_000);
  timer.unref();
  return {
    async close() {
      stopped = true;
      clearInterval(timer);
      await Promise.all(
        drains.map(async (drain) => {
          await drain.worker()?.close();
          await drain.queue.close();
        }),
      );
    },
  };
}
