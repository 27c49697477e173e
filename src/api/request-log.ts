import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../shared/logger.js';
import type { Drain } from './drain.js';
import { requestUrl, type RecordRequest } from './http-metrics.js';

// A request id from the load balancer is kept if it looks like one; anything else is replaced.
const FORWARDED_ID = /^[A-Za-z0-9._:-]{8,128}$/;

declare module 'node:http' {
  interface IncomingMessage {
    /** This request's id: the balancer's `x-request-id`, or a new one. */
    id?: string;
  }
}

/**
 * What `web` does around every request, in one function with one `finish` listener, because
 * it runs on the webhook hot path (each separate layer cost measurably; docs/BENCHMARKS.md):
 * - a request id (the balancer's `x-request-id`, or a new one), echoed in the response;
 * - `Connection: close` once the node is draining;
 * - the request's metrics, and a log line for a 5xx (for every request at debug level).
 * Hand-written rather than pino-http, which cost about a fifth of web's CPU under webhook load.
 */
export function observeRequests(options: {
  log: Logger;
  drain?: Drain;
  record?: RecordRequest;
}): (req: IncomingMessage, res: ServerResponse) => void {
  const { log, drain, record } = options;
  const debug = log.isLevelEnabled('debug');
  return (req, res) => {
    const forwarded = req.headers['x-request-id'];
    const id =
      typeof forwarded === 'string' && FORWARDED_ID.test(forwarded) ? forwarded : randomUUID();
    req.id = id;
    res.setHeader('x-request-id', id);
    if (drain?.draining) res.setHeader('Connection', 'close');
    const started = performance.now();
    res.on('finish', () => {
      const ms = performance.now() - started;
      record?.(req, res, ms / 1000);
      if (res.statusCode < 500 && !debug) return;
      const url = requestUrl(req);
      const fields = {
        reqId: id,
        method: req.method,
        url,
        status: res.statusCode,
        ms: Math.round(ms),
      };
      const line = `${req.method} ${url} answered ${res.statusCode}`;
      if (res.statusCode >= 500) log.error(fields, line);
      else log.debug(fields, line);
    });
  };
}
