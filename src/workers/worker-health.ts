import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../shared/logger.js';
import { readinessProbe, startHealthServer, type ReadinessCheck } from '../shared/health.js';
import { serveMetrics } from '../shared/metrics.js';
import { exitOnListenError } from '../shared/listen.js';

/**
 * A worker's `/healthz`, `/readyz` and `/metrics` on `HEALTH_PORT`, when set. Started before any
 * worker takes a job, so that a port in use stops the process with nothing in hand.
 */
export async function startWorkerHealth(options: {
  port: number | undefined;
  checks: ReadinessCheck[];
  metrics: Registry;
  metricsToken: string | undefined;
  log: Logger;
}): Promise<Server | undefined> {
  if (options.port === undefined) return undefined;
  return startHealthServer(
    options.port,
    readinessProbe(options.checks, options.log),
    serveMetrics(options.metrics, options.metricsToken),
  ).catch(exitOnListenError(options.log));
}
