import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../shared/logger.js';

/** An error whose status, code and message are safe to show to the caller. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The body of every error answer: `{error: {code, message}}`. */
export const errorBody = (error: HttpError) => ({
  error: { code: error.code, message: error.message },
});

export const badRequest = (message: string, code = 'bad_request') =>
  new HttpError(400, code, message);
export const forbidden = (message: string, code = 'forbidden') => new HttpError(403, code, message);
export const notFound = (message = 'Not found') => new HttpError(404, 'not_found', message);
export const unavailable = (message: string, retryAfterSeconds = 5) =>
  new HttpError(503, 'unavailable', message, { 'retry-after': String(retryAfterSeconds) });

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(notFound(`No route for ${req.method} ${req.path}`));
};

/**
 * A PostgreSQL error as knex throws it carries the statement and its values in its message;
 * the log gets PostgreSQL's own words and codes instead.
 */
function withoutSql(error: unknown): unknown {
  if (typeof error !== 'object' || error === null || !('severity' in error && 'code' in error)) {
    return error;
  }
  const { code, severity, routine, message } = error as Record<string, unknown>;
  const said = typeof message === 'string' ? message.split(' - ').at(-1) : 'database error';
  return Object.assign(new Error(said), { name: 'DatabaseError', code, severity, routine });
}

/** Renders every error as `{error: {code, message}}`; unknown errors say nothing of their cause. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const bodyParserStatus = (error as { status?: number; type?: string })?.type?.startsWith(
      'entity.',
    )
      ? (error as { status: number }).status
      : undefined;
    let http: HttpError;
    if (error instanceof HttpError) http = error;
    // Express's router could not decode a path parameter (`%E0%A4%A`): the caller's URL.
    else if (error instanceof URIError) {
      http = new HttpError(400, 'bad_request', 'The URL has malformed percent-encoding');
    } else if (bodyParserStatus === 413) {
      http = new HttpError(413, 'payload_too_large', 'Request body is too large');
    } else if (bodyParserStatus) {
      http = new HttpError(bodyParserStatus, 'bad_request', 'Malformed request body');
    } else {
      log.error(
        { err: withoutSql(error), reqId: req.id, method: req.method, path: req.path },
        `Unhandled error on ${req.method} ${req.path}`,
      );
      http = new HttpError(500, 'internal', 'Internal server error');
    }
    // For metrics: the outcome of a request that ended in an error.
    res.locals.errorCode = http.code;
    res.status(http.status).set(http.headers).json(errorBody(http));
  };
}
