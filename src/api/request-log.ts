import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../shared/logger.js';

// A request id from the load balancer is kept if it looks like one; anything else is replaced.
const FORWARDED_ID = /^[A-Za-z0-9._:-]{8,128}$/;

declare module 'node:http' {
  interface IncomingMessage {
    /** This request's id: the balancer's `x-request-id`, or a new one. */
    id?: string;
  }
}

/**
 * Gives every request an id, echoes it as `x-request-id`, and logs a line when the answer is a
 * 5xx (at debug level, for every request). Hand-written rather than pino-http: that one built
 * a child logger and serialized each request up front, about a fifth of web's CPU under
 * webhook load (bench/, intake profile), even with nothing to log.
 */
export function requestLog(log: Logger): RequestHandler {
  const debug = log.isLevelEnabled('debug');
  return (req, res, next) => {
    const forwarded = req.headers['x-request-id'];
    const id =
      typeof forwarded === 'string' && FORWARDED_ID.test(forwarded) ? forwarded : randomUUID();
    req.id = id;
    res.setHeader('x-request-id', id);
    const started = performance.now();
    res.on('finish', () => {
      if (res.statusCode < 500 && !debug) return;
      const fields = {
        reqId: id,
        method: req.method,
        url: req.originalUrl,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
      };
      const line = `${req.method} ${req.originalUrl} answered ${res.statusCode}`;
      if (res.statusCode >= 500) log.error(fields, line);
      else log.debug(fields, line);
    });
    next();
  };
}
