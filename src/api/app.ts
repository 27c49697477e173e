import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type RequestHandler, type Router } from 'express';
import type { Logger } from '../shared/logger.js';
import type { FeedCache } from '../shared/feed/feed-cache.js';
import { readinessProbe, type ReadinessCheck } from '../shared/health.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { createEventSubIntake, isEventSubCallback } from './webhooks/eventsub-intake.js';
import type { RejectedCallbacks } from './webhooks/rejected-callbacks.js';
import type { ShardedQueue } from '../shared/queues.js';
import { declaresMoreThan, tooLarge } from './webhooks/raw-body.js';
import { streamerEventsRoute, type EventHistory } from './routes/streamer-events.route.js';
import type { Drain } from './drain.js';
import { observeRequests } from './request-log.js';
import { sameOrigin } from './auth/same-origin.js';
import type { RecordRequest } from './http-metrics.js';
import type { TrustProxy } from '../shared/trust-proxy.js';

export interface WebDeps {
  log: Logger;
  /** `PUBLIC_URL`: state-changing requests from any other origin are refused. */
  publicUrl: string;
  eventSubSecret: string;
  webhookBodyLimit: number;
  callbacks: ShardedQueue;
  /** REDIS_ACK_REPLICAS: see EventSubIntakeDeps. */
  confirmReplicated?: (queueKey: string) => Promise<void>;
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
  /**
   * Request timing and webhook outcomes, and the guarded `GET /metrics` that serves them: `serve`
   * answers and returns true, or returns false for a path that is not its own.
   */
  metrics?: {
    record: RecordRequest;
    serve: (req: IncomingMessage, res: ServerResponse) => boolean;
  };
  /** TRUST_PROXY: which X-Forwarded-For entries name the client; none by default. */
  trustProxy?: TrustProxy;
}

export interface WebHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** For the server's `checkContinue` event: requests that send `Expect: 100-continue`. */
  checkContinue: (req: IncomingMessage, res: ServerResponse) => void;
}

/**
 * `web`'s request handler: every request is observed (id, drain, metrics); EventSub callbacks go
 * to the intake, which reads the raw bytes itself, and everything else to the Express app.
 */
export function createWebApp(deps: WebDeps): WebHandler {
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
    ...(deps.confirmReplicated ? { confirmReplicated: deps.confirmReplicated } : {}),
  });
  const app = createExpressApp(deps);
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    observe(req, res);
    if (isEventSubCallback(req)) intake(req, res);
    else app(req, res);
  };
  return Object.assign(handle, {
    // No route takes more than the webhook limit: a larger body is refused (413, see above)
    // without the 100 Continue that would invite the client to send it.
    checkContinue: (req: IncomingMessage, res: ServerResponse) => {
      if (!declaresMoreThan(req, deps.webhookBodyLimit)) res.writeContinue();
      handle(req, res);
    },
  });
}

function createExpressApp(deps: WebDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy ?? 0);
  // Refused before any route reads it: no route takes more than a webhook.
  app.use((req, _res, next) => {
    next(declaresMoreThan(req, deps.webhookBodyLimit) ? tooLarge(true) : undefined);
  });
  app.use(sameOrigin(deps.publicUrl));
  if (deps.rateLimits) {
    app.use('/auth', deps.rateLimits.auth);
    app.use('/api', deps.rateLimits.api);
  }
  if (deps.metrics) {
    const { serve } = deps.metrics;
    // A path the route matches but serve does not (its matching differs) goes on to the 404.
    app.get('/metrics', (req, res, next) => {
      if (!serve(req, res)) next();
    });
  }
  app.use(deps.pages);
  app.use(deps.viewer);
  if (deps.queueDashboard) app.use(deps.queueDashboard.path, deps.queueDashboard.router);
  app.use('/api/streamers', streamerEventsRoute({ cache: deps.cache, history: deps.history }));

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  const readiness = readinessProbe(deps.readinessChecks, deps.log.child({ scope: 'api' }));
  app.get('/readyz', async (_req, res) => {
    if (deps.drain?.draining) {
      res.status(503).json({ ok: false, checks: { shutdown: 'draining' } });
      return;
    }
    const result = await readiness();
    res.status(result.ok ? 200 : 503).json(result);
  });

  app.use(notFoundHandler);
  app.use(errorHandler(deps.log.child({ scope: 'api' })));
  return app;
}
