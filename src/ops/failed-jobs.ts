import type { Job, Queue } from 'bullmq';
import { QUEUES, type QueueName } from '../shared/queues.js';
import { UsageError } from './cli.js';

export { UsageError };

const QUEUE_NAMES = Object.values(QUEUES) as string[];

export const USAGE = `usage: failed-jobs list <queue> [--limit N]
       failed-jobs retry <queue> [jobId ...]   (every failed job of the queue without ids)
queues: ${QUEUE_NAMES.join(', ')}`;

export type FailedJobsCommand =
  | { action: 'list'; queue: QueueName; limit: number }
  | { action: 'retry'; queue: QueueName; jobIds: string[] };

/** Parses the command line, naming what is wrong with it. */
export function parseFailedJobsArgs(args: string[]): FailedJobsCommand {
  const [action, queue, ...rest] = args;
  if (action !== 'list' && action !== 'retry') {
    throw new UsageError(
      `unknown action ${JSON.stringify(action ?? '')}: use list <queue> [--limit N], or retry <queue> [jobId ...]`,
    );
  }
  if (!queue || !QUEUE_NAMES.includes(queue)) {
    throw new UsageError(
      `unknown queue ${JSON.stringify(queue ?? '')} (queues: ${QUEUE_NAMES.join(', ')})`,
    );
  }
  if (action === 'retry') return { action, queue: queue as QueueName, jobIds: rest };
  let limit = 50;
  if (rest.length) {
    const [flag, value] = rest;
    limit = Number(value);
    if (flag !== '--limit' || !Number.isInteger(limit) || limit < 1 || rest.length > 2) {
      throw new UsageError(`unexpected ${rest.join(' ')}: list takes only --limit N, N from 1`);
    }
  }
  return { action, queue: queue as QueueName, limit };
}

/**
 * A failure reason on one line: a payload's zod error (`✖ message` then `→ at path`, one line
 * each) reads "✖ message → at path; ✖ ...".
 */
export function oneLine(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.reduce(
    (joined, line) => (joined ? `${joined}${line.startsWith('✖') ? '; ' : ' '}${line}` : line),
    '',
  );
}

/** One line per job: what an operator needs to decide whether a retry can help. */
export function describeFailedJob(job: Job): string {
  const finished = job.finishedOn ? new Date(job.finishedOn).toISOString() : 'not finished';
  const reason = oneLine(job.failedReason ?? '');
  return `${job.id}\t${job.name}\tattempts=${job.attemptsMade}\tfailed=${finished}\t${reason}`;
}

/**
 * Runs one command against every shard of a queue (`shards`, the BullMQ queues of one kind);
 * returns the lines to print. Jobs are listed newest first across the shards.
 */
export async function runFailedJobs(
  shards: readonly Queue[],
  command: FailedJobsCommand,
): Promise<string[]> {
  const where = command.queue;
  if (command.action === 'list') {
    const counts = await Promise.all(shards.map((queue) => queue.getFailedCount()));
    const total = counts.reduce((sum, n) => sum + n, 0);
    const newest = (await Promise.all(shards.map((queue) => queue.getFailed(0, command.limit - 1))))
      .flat()
      .sort((a, b) => (b.finishedOn ?? 0) - (a.finishedOn ?? 0))
      .slice(0, command.limit);
    return [
      `${total} failed job(s) in ${where}${total > newest.length ? `, newest ${newest.length} shown` : ''}`,
      ...newest.map(describeFailedJob),
    ];
  }
  const jobs = command.jobIds.length
    ? await Promise.all(command.jobIds.map(async (id) => [id, await findJob(shards, id)] as const))
    : (await Promise.all(shards.map((queue) => queue.getFailed())))
        .flat()
        .map((job) => [job.id ?? '', job] as const);
  const lines: string[] = [];
  for (const [id, job] of jobs) {
    if (!job) {
      lines.push(`${id}: no such job in ${where}`);
      continue;
    }
    if (!(await job.isFailed())) {
      lines.push(`${id}: not failed (${await job.getState()}), left alone`);
      continue;
    }
    await job.retry('failed');
    lines.push(`${id}: queued again`);
  }
  const retried = lines.filter((line) => line.endsWith('queued again')).length;
  return [...lines, `${retried} job(s) queued again in ${where}`];
}

/** A job id is unique within its queue; the first shard that holds it has it. */
async function findJob(shards: readonly Queue[], id: string): Promise<Job | undefined> {
  for (const queue of shards) {
    const job = await queue.getJob(id);
    if (job) return job;
  }
  return undefined;
}
