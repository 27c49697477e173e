import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../shared/logger.js';
import { JOBS, enqueue, type ShardedQueue } from '../../shared/queues.js';
import {
  EVENTSUB_HEADERS as H,
  FRESHNESS_WINDOW_MS,
  MESSAGE_TYPES,
} from '../../shared/twitch/eventsub-headers.js';
import { verifyEventSubSignature } from '../../shared/twitch/signature.js';
import { parseRfc3339 } from '../../shared/twitch/rfc3339.js';
import { HttpError, badRequest, errorBody, forbidden, unavailable } from '../errors.js';
import { setOutcome } from '../http-metrics.js';
import { readCallbackBody, verificationChallenge } from './callback-body.js';
import { REJECTED_BODY_CHARS, type RejectedCallbacks } from './rejected-callbacks.js';
import { readRawBody } from './raw-body.js';

export interface EventSubIntakeDeps {
  secret: string;
  bodyLimit: number;
  /** Every shard of the callback queue; a callback goes to its streamer's (see below). */
  callbacks: ShardedQueue;
  /** Whether the processor has fully handled this message id (a replay or a Twitch retry). */
  isProcessed: (messageId: string) => Promise<boolean>;
  /** Where signed bodies that cannot be processed are kept for inspection. */
  rejected: RejectedCallbacks;
  log: Logger;
  now?: () => number;
  /** How long to wait for Redis before telling Twitch to retry. */
  enqueueTimeoutMs?: number;
  /**
   * With REDIS_ACK_REPLICAS: resolves once replicas of the queue's master have the job just
   * added (`queueKey` is one of the queue's keys), and rejects when too few do in time.
   */
  confirmReplicated?: (queueKey: string) => Promise<void>;
}

export const EVENTSUB_CALLBACK_PATH = '/webhooks/twitch';

/** Whether a request is for the intake: a POST to the callback path, with or without a query. */
export function isEventSubCallback(req: IncomingMessage): boolean {
  if (req.method !== 'POST' || req.url === undefined) return false;
  const query = req.url.indexOf('?');
  const path = (query === -1 ? req.url : req.url.slice(0, query)).toLowerCase();
  return path === EVENTSUB_CALLBACK_PATH || path === `${EVENTSUB_CALLBACK_PATH}/`;
}

/** Header value, or undefined when absent; a repeated header is never a valid one. */
function single(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Node joins a repeated unknown header into one "a, b" value; the distinct list shows it. */
const repeatedHeader = (req: IncomingMessage): string | undefined =>
  Object.values(H).find((name) => (req.headersDistinct[name]?.length ?? 0) > 1);

/** BullMQ job ids may not contain ':' and Twitch message ids are opaque; a digest is safe. */
export const callbackJobId = (messageId: string): string =>
  `m-${createHash('sha256').update(messageId).digest('base64url')}`;

/** The same `{error: {code, message}}` answer as the Express error handler gives. */
function sendError(res: ServerResponse, error: HttpError): void {
  setOutcome(res, error.code);
  res.statusCode = error.status;
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(errorBody(error)));
}

function answer(res: ServerResponse, status: number, outcome: string, text?: string): void {
  setOutcome(res, outcome);
  res.statusCode = status;
  if (text === undefined) {
    res.end();
    return;
  }
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(text);
}

/**
 * Twitch EventSub intake: verify, answer the challenge, or durably queue and only then
 * acknowledge. It does no processing, so Twitch always gets its answer within milliseconds.
 * A plain Node handler that `web` serves ahead of Express: this is the path that takes every
 * webhook, and Express's layers cost more than the work itself (docs/BENCHMARKS.md).
 */
export function createEventSubIntake(
  deps: EventSubIntakeDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  const now = deps.now ?? Date.now;
  const timeoutMs = deps.enqueueTimeoutMs ?? 3000;

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return;
      if (error instanceof HttpError) {
        sendError(res, error);
        return;
      }
      deps.log.error(
        { err: error, reqId: req.id, method: req.method, path: req.url },
        `Unhandled error on ${req.method} ${req.url}`,
      );
      sendError(res, new HttpError(500, 'internal', 'Internal server error'));
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readRawBody(req, deps.bodyLimit);
    const messageId = single(req, H.messageId);
    const timestamp = single(req, H.messageTimestamp);
    const signature = single(req, H.messageSignature);
    const messageType = single(req, H.messageType);
    // Built only when there is something to log: most webhooks log nothing.
    const log = () => deps.log.child({ reqId: req.id, msgId: messageId, messageType });

    const repeated = repeatedHeader(req);
    if (repeated) {
      log().warn(`Rejected EventSub request with a repeated ${repeated} header`);
      throw badRequest(`Header ${repeated} appears more than once`, 'repeated_header');
    }
    if (!messageId || !timestamp || !signature) {
      log().warn('Rejected EventSub request without message id, timestamp or signature');
      throw forbidden(
        'Missing Twitch-Eventsub-Message-Id, -Timestamp or -Signature header',
        'missing_signature',
      );
    }
    if (!verifyEventSubSignature(deps.secret, messageId, timestamp, body, signature)) {
      log().warn(`Rejected EventSub message ${messageId}: bad signature`);
      throw forbidden('Signature does not match', 'bad_signature');
    }
    const sentAt = parseRfc3339(timestamp); // the processor's parser: one verdict for both
    if (sentAt === null) {
      log().warn(
        { timestamp },
        `Rejected EventSub message ${messageId}: timestamp ${timestamp} is not RFC 3339`,
      );
      throw forbidden(
        'Message timestamp is not an RFC 3339 time (such as 2026-12-01T22:04:10.123456789Z)',
        'invalid_timestamp',
      );
    }
    if (Math.abs(now() - sentAt) > FRESHNESS_WINDOW_MS) {
      log().warn(
        { timestamp },
        `Rejected EventSub message ${messageId}: timestamp ${timestamp} is outside 10 minutes`,
      );
      throw forbidden(
        'Message timestamp is older than 10 minutes, or in the future',
        'stale_timestamp',
      );
    }

    if (messageType === MESSAGE_TYPES.verification) {
      const verification = verificationChallenge(body.toString('utf8'));
      if ('problem' in verification) throw badRequest(verification.problem);
      const { challenge } = verification;
      log().info(`Answered EventSub challenge for message ${messageId}`);
      answer(res, 200, 'challenge', challenge);
      return;
    }
    if (messageType !== MESSAGE_TYPES.notification && messageType !== MESSAGE_TYPES.revocation) {
      log().warn(`Ignored EventSub message ${messageId} of unknown type ${String(messageType)}`);
      answer(res, 204, 'unknown_type');
      return;
    }

    const bodyText = body.toString('utf8');
    const read = readCallbackBody(bodyText, messageType);
    if ('problem' in read) {
      await keepRejected(log(), messageId, messageType, req, bodyText, read.problem);
      throw badRequest(`Unusable EventSub ${messageType}: ${read.problem}`, 'unusable_body');
    }
    // Only a shortcut: the processor drops a processed message id anyway. So a failed check
    // (Redis still connecting, or away) lets the enqueue below decide between 202 and 503.
    // It is asked only of a resend: a first delivery (retry "0") is almost never processed
    // already, and the round trip cost every webhook about a tenth of web's throughput.
    const resend = single(req, H.messageRetry) !== '0';
    const processed =
      resend &&
      (await withTimeout(deps.isProcessed(messageId), timeoutMs).catch((error: unknown) => {
        log().warn(
          { err: error },
          `Could not check whether ${messageId} was processed; queuing it`,
        );
        return false;
      }));
    if (processed) {
      // Twitch retries keep the message id: 2xx, as PROTOCOL.md section 1.5 asks, and no work.
      log().info(`Acknowledged EventSub message ${messageId} again: already processed`);
      answer(res, 204, 'duplicate');
      return;
    }

    // By streamer: its callbacks then keep to one queue, and so do their notify and storage
    // batches (the processor sends them to the same shard number), so a streamer's events are
    // batched together and mostly arrive in order; on a cluster that shard is on the master of
    // the streamer's feed keys (streamerShard). A Twitch retry has the same streamer and
    // message id, so it meets its first delivery's job id in the same queue and is a no-op. A
    // body without a streamer (user.authorization.*) goes by message id, which is as stable.
    const queue = read.streamerId
      ? deps.callbacks.forStreamer(read.streamerId)
      : deps.callbacks.forMessage(messageId);
    const job = enqueue(
      queue,
      JOBS.eventSubCallback,
      {
        messageId,
        messageType,
        messageTimestamp: timestamp,
        messageRetry: single(req, H.messageRetry) ?? null,
        subscriptionType: single(req, H.subscriptionType) ?? null,
        subscriptionVersion: single(req, H.subscriptionVersion) ?? null,
        body: bodyText,
        receivedAt: now(),
      },
      // The same message id maps to the same job, so a retry that races the first is a no-op.
      { jobId: callbackJobId(messageId) },
    );
    try {
      await withTimeout(job, timeoutMs);
    } catch (error) {
      log().error(
        { err: error },
        `Could not queue EventSub message ${messageId}; answering 503 so Twitch retries`,
      );
      throw unavailable('Cannot queue the message right now; please retry');
    }
    if (deps.confirmReplicated) {
      try {
        await deps.confirmReplicated(queue.toKey('id'));
      } catch (error) {
        // Queued, but it could vanish with its master: Twitch retries, and the retry meets the
        // same job id (or the processed mark) and is a no-op.
        log().warn(
          { err: error },
          `EventSub message ${messageId} is queued but not yet on a replica: ${(error as Error).message}; answering 503 so Twitch retries`,
        );
        throw unavailable('The message is not yet replicated; please retry', 1);
      }
    }
    answer(res, 202, messageType === MESSAGE_TYPES.revocation ? 'revocation' : 'accepted');
  }

  async function keepRejected(
    log: Logger,
    messageId: string,
    messageType: string,
    req: IncomingMessage,
    body: string,
    reason: string,
  ): Promise<void> {
    log.warn(
      { bodyBytes: Buffer.byteLength(body) },
      `Rejected signed EventSub ${messageType} ${messageId}: ${reason}; kept for inspection`,
    );
    try {
      await withTimeout(
        deps.rejected.keep({
          at: new Date(now()).toISOString(),
          reason,
          messageId,
          messageType,
          subscriptionType: single(req, H.subscriptionType) ?? null,
          bodyBytes: Buffer.byteLength(body),
          body: body.slice(0, REJECTED_BODY_CHARS),
        }),
        timeoutMs,
      );
    } catch (error) {
      log.error({ err: error }, `Could not keep rejected EventSub message ${messageId}`);
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
