import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type RequestHandler, type Router } from 'express';
import type { Queue } from 'bullmq';
import type { Logger } from '../shared/logger.js';
import type { FeedCache } from '../shared/feed/feed-cache.js';
import { readiness, type ReadinessCheck } from '../shared/health.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { createEventSubIntake, isEventSubCallback } from './webhooks/eventsub-intake.js';
import type { RejectedCallbacks } from './webhooks/rejected-callbacks.js';
import { streamerEventsRoute, type EventHistory } from './routes/streamer-events.route.js';
import type { Drain } from './drain.js';
import { observeRequests } from './request-log.js';
import type { RecordRequest } from './http-metrics.js';
import type { TrustProxy } from '../shared/trust-proxy.js';

export interface WebDeps {
  log: Logger;
  eventSubSecret: string;
  webhookBodyLimit: number;
  callbacks: Queue;
  /** See EventSubIntakeDeps. */
  isProcessed: (messageId: string) => Promise<boolean>;
  rejectedCallbacks: RejectedCallbacks;
  cache: FeedCache;
  history: EventHistory;
  readinessChecks: ReadinessCheck[];
  /** Login, sessions, `/api/me` and `/api/realtime/token`. */
  viewer: Router;
  /** The event page, its assets and the security headers. */
  pages: Router;
  /** Per-client limits on `/auth/*` and `/api/*`, shared by every `web` node. */
  rateLimits?: { auth: RequestHandler; api: RequestHandler };
  /** Set once the node is shutting down: see drain.ts. */
  drain?: Drain;
  /** The operators' queue dashboard, mounted after the session at its own path. */
  queueDashboard?: { path: string; router: Router };
  /** Request timing and webhook outcomes, and the guarded `GET /metrics` that serves them. */
  metrics?: { record: RecordRequest; serve: RequestHandler };
  /** TRUST_PROXY: which X-Forwarded-For entries name the client; none by default. */
  trustProxy?: TrustProxy;
}

/**
 * `web`'s request handler: every request is observed (id, drain, metrics); EventSub callbacks go
 * to the intake, which reads the raw bytes itself, and everything else to the Express app.
 */
export function createWebApp(deps: WebDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const observe = observeRequests({
    log: deps.log,
    drain: deps.drain,
    record: deps.metrics?.record,
  });
  const intake = createEventSubIntake({
    secret: deps.eventSubSecret,
    bodyLimit: deps.webhookBodyLimit,
    callbacks: deps.callbacks,
    isProcessed: deps.isProcessed,
    rejected: deps.rejectedCallbacks,
    log: deps.log.child({ scope: 'api' }),
  });
  const app = createExpressApp(deps);
  return (req, res) => {
    observe(req, res);
    if (isEventSubCallback(req)) intake(req, res);
    else app(req, res);
  };
}

function createExpressApp(deps: WebDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy ?? 0);
  if (deps.rateLimits) {
    app.use('/auth', deps.rateLimits.auth);
    app.use('/api', deps.rateLimits.api);
  }
  if (deps.metrics) app.get('/metrics', deps.metrics.serve);
  app.use(deps.pages);
  app.use(deps.viewer);
  if (deps.queueDashboard) app.use(deps.queueDashboard.path, deps.queueDashboard.router);
  app.use('/api/streamers', streamerEventsRoute({ cache: deps.cache, history: deps.history }));

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', async (_req, res) => {
    if (deps.drain?.draining) {
      res.status(503).json({ ok: false, checks: { shutdown: 'draining' } });
      return;
    }
    const result = await readiness(deps.readinessChecks);
    res.status(result.ok ? 200 : 503).json(result);
  });

  app.use(notFoundHandler);
  app.use(errorHandler(deps.log.child({ scope: 'api' })));
  return app;
}
