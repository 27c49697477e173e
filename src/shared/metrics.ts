import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Job, Queue, Worker } from 'bullmq';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { readiness, type ReadinessCheck } from './health.js';
import { queueKindOf } from './queues.js';

/**
 * One process's Prometheus registry: Node's own metrics (event-loop lag, memory, CPU, handles),
 * labelled with the process type, plus whatever the process registers on it.
 */
export function createMetricsRegistry(processType: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ process_type: processType });
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  return registry;
}

/** `streamfeed_dependency_up{dependency}`: 1 when the readiness check passes at scrape time. */
export function registerDependencyHealth(registry: Registry, checks: ReadinessCheck[]): void {
  new Gauge({
    name: 'streamfeed_dependency_up',
    help: 'Whether a dependency (Redis, PostgreSQL) answered its health check at scrape time',
    labelNames: ['dependency'],
    registers: [registry],
    async collect() {
      const result = await readiness(checks, 1000);
      for (const check of checks) {
        this.set({ dependency: check.name }, result.checks[check.name] === 'ok' ? 1 : 0);
      }
    },
  });
}

// 'prioritized': jobs queued with a priority (ensure-subscriptions) wait there, not in 'waiting'.
/** The `queue` label: the kind of queue (`twitchCallbacks`), not the shard's BullMQ name. */
const queueLabel = (name: string): string => queueKindOf(name) ?? name;

const JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;

/** `streamfeed_queue_jobs{queue,state}`, read from Redis at scrape time. */
export function registerQueueDepths(registry: Registry, queues: Queue[]): void {
  new Gauge({
    name: 'streamfeed_queue_jobs',
    help: 'Jobs in each queue by state, at scrape time',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      try {
        const all = await Promise.race([
          Promise.all(queues.map((queue) => queue.getJobCounts(...JOB_STATES))),
          new Promise<never>((_, reject) => {
            setTimeout(() => reject(new Error('Redis did not answer')), 1000).unref();
          }),
        ]);
        // One series per kind of queue: its shards summed, so that dashboards and alerts read
        // the same whatever QUEUE_SHARDS is.
        const sums = new Map<string, Record<string, number>>();
        all.forEach((counts, i) => {
          const kind = queueLabel(queues[i]!.name);
          const sum = sums.get(kind) ?? {};
          for (const state of JOB_STATES) sum[state] = (sum[state] ?? 0) + (counts[state] ?? 0);
          sums.set(kind, sum);
        });
        for (const [queue, sum] of sums) {
          for (const state of JOB_STATES) this.set({ queue, state }, sum[state]!);
        }
      } catch {
        // No figures rather than stale ones; streamfeed_dependency_up says why.
        this.reset();
      }
    },
  });
}

const JOB_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * `streamfeed_job_wait_seconds` (queued to started) and `streamfeed_job_run_seconds` (started to
 * done), by queue and outcome, for every job a worker finishes.
 */
export function createJobTimings(registry: Registry) {
  const wait = new Histogram({
    name: 'streamfeed_job_wait_seconds',
    help: 'Time from a job being queued (or due, after a backoff) to a worker starting it',
    labelNames: ['queue'],
    buckets: JOB_BUCKETS,
    registers: [registry],
  });
  const run = new Histogram({
    name: 'streamfeed_job_run_seconds',
    help: 'Time a worker spent on a job attempt',
    labelNames: ['queue', 'outcome'],
    buckets: JOB_BUCKETS,
    registers: [registry],
  });
  const seconds = (ms: number) => Math.max(0, ms) / 1000;
  const observe = (queue: string, job: Job, outcome: 'completed' | 'failed') => {
    if (!job.processedOn) return;
    // Only first attempts: a retry's wait would be its backoff, which is no sign of load.
    if (job.attemptsMade <= 1) {
      wait.observe({ queue }, seconds(job.processedOn - job.timestamp - (job.opts.delay ?? 0)));
    }
    run.observe({ queue, outcome }, seconds((job.finishedOn ?? Date.now()) - job.processedOn));
  };
  return {
    watch(worker: Worker): void {
      const queue = queueLabel(worker.name);
      worker.on('completed', (job) => observe(queue, job, 'completed'));
      worker.on('failed', (job) => job && observe(queue, job, 'failed'));
    },
  };
}

/** `/metrics`, matched as Express matches routes: any letter case, one trailing slash allowed. */
const METRICS_PATH = /^\/metrics\/?$/i;
/** RFC 7235: the auth scheme is case-insensitive, and one or more spaces precede the token. */
const BEARER = /^bearer +(\S+) *$/i;

/**
 * `GET /metrics` for a plain Node HTTP server: Prometheus text for a caller that presents
 * `Authorization: Bearer <token>`, 401 for anyone else, 404 when no token is configured (metrics
 * are then off, rather than open). Returns false for any other path: the caller must answer it.
 */
export function serveMetrics(
  registry: Registry,
  token: string | undefined,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const expected = token ? Buffer.from(token) : undefined;
  return (req, res) => {
    if (!METRICS_PATH.test((req.url ?? '').split('?')[0]!)) return false;
    const send = (status: number, message: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(
        JSON.stringify({ error: { code: status === 401 ? 'unauthorized' : 'not_found', message } }),
      );
    };
    if (!expected) {
      send(404, 'Metrics are off: set METRICS_TOKEN to turn them on');
      return true;
    }
    const presented = Buffer.from(BEARER.exec(req.headers.authorization ?? '')?.[1] ?? '');
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
      send(401, 'Metrics need Authorization: Bearer <METRICS_TOKEN>', {
        'www-authenticate': 'Bearer realm="metrics"',
      });
      return true;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`metrics collection failed: ${(error as Error).message}`);
      },
    );
    return true;
  };
}

/**
 * `streamfeed_eventsub_total_cost` and `streamfeed_eventsub_max_total_cost` (label `transport`):
 * Twitch's subscription cost budget as its last Helix answer reported it. No series until one
 * has; the two together say how close new subscriptions are to being refused.
 */
export function createEventSubCostGauges(registry: Registry) {
  const total = new Gauge({
    name: 'streamfeed_eventsub_total_cost',
    help: "Sum of the costs of this client's EventSub subscriptions, as Twitch last reported it",
    labelNames: ['transport'],
    registers: [registry],
  });
  const max = new Gauge({
    name: 'streamfeed_eventsub_max_total_cost',
    help: 'Most total cost Twitch allows this client; new subscriptions past it are refused (429)',
    labelNames: ['transport'],
    registers: [registry],
  });
  return {
    record(cost: { total: number; max: number }, transport = 'webhook'): void {
      total.set({ transport }, cost.total);
      max.set({ transport }, cost.max);
    },
  };
}
