import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../shared/logger.js';

// A request id from the load balancer is kept if it looks like one; anything else is replaced.
const FORWARDED_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Gives every request an id (the balancer's `x-request-id`, or a new one), echoes it in the
 * response, and puts `req.log`, a child logger carrying `reqId`, on the request. Only failed
 * requests (5xx) get a line of their own; at debug level, every request does.
 */
export function requestLog(log: Logger): RequestHandler {
  return pinoHttp({
    logger: log,
    genReqId(req, res) {
      const forwarded = req.headers['x-request-id'];
      const id =
        typeof forwarded === 'string' && FORWARDED_ID.test(forwarded) ? forwarded : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    customAttributeKeys: { reqId: 'reqId' },
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'debug'),
    // Headers stay out of the line: they carry cookies and signatures.
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}
