import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram, type Registry } from 'prom-client';

/** The part of the site a path belongs to: a bounded label, whatever the path. */
function areaOf(path: string): string {
  const first = path.split('/')[1] ?? '';
  return ['webhooks', 'api', 'auth', 'admin', 'healthz', 'readyz', 'metrics'].includes(first)
    ? first
    : 'page';
}

/** What a request's metrics read: Express's request and response, or Node's own. */
type ObservedRequest = IncomingMessage & { originalUrl?: string };
type ObservedResponse = ServerResponse & {
  locals?: { webhookOutcome?: string; errorCode?: string };
};

/**
 * The whole URL a request asked for: Express keeps it in `originalUrl` (a mounted router strips
 * its mount path from `req.url` while it routes); a request Express never saw has only `url`.
 */
export const requestUrl = (req: ObservedRequest): string => req.originalUrl ?? req.url ?? '';

/** Records one answered request; see httpMetrics. */
export type RecordRequest = (req: ObservedRequest, res: ObservedResponse, seconds: number) => void;

/**
 * Names how a webhook request ended (`accepted`, `bad_signature`, ...) for the outcome counter;
 * Express's `res.locals`, which the error handler also writes to, or the same on a bare response.
 */
export function setOutcome(res: ServerResponse, outcome: string): void {
  const observed = res as ObservedResponse;
  observed.locals = { ...observed.locals, webhookOutcome: outcome };
}

/**
 * `streamfeed_http_request_duration_seconds{area,status}` for every request, and
 * `streamfeed_webhook_requests_total{outcome}` for EventSub intake, where the outcome is what the
 * route set in `res.locals.webhookOutcome`, or else the error code it answered with.
 */
export function httpMetrics(registry: Registry): RecordRequest {
  const duration = new Histogram({
    name: 'streamfeed_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by area of the site and status class',
    labelNames: ['area', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3],
    registers: [registry],
  });
  const webhooks = new Counter({
    name: 'streamfeed_webhook_requests_total',
    help: 'EventSub webhook requests by outcome (accepted, duplicate, challenge, bad_signature, invalid_timestamp, stale_timestamp, unavailable (503), ...)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  return (req, res, seconds) => {
    const area = areaOf(requestUrl(req).split('?')[0] ?? '');
    duration.observe({ area, status: `${Math.floor(res.statusCode / 100)}xx` }, seconds);
    if (area === 'webhooks') {
      webhooks.inc({
        outcome: res.locals?.webhookOutcome ?? res.locals?.errorCode ?? String(res.statusCode),
      });
    }
  };
}
