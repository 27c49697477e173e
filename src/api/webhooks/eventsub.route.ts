import { createHash } from 'node:crypto';
import express, { Router, type Request } from 'express';
import type { Queue } from 'bullmq';
import type { Logger } from '../../shared/logger.js';
import { JOBS, enqueue } from '../../shared/queues.js';
import {
  EVENTSUB_HEADERS as H,
  FRESHNESS_WINDOW_MS,
  MESSAGE_TYPES,
} from '../../shared/twitch/eventsub-headers.js';
import { verifyEventSubSignature } from '../../shared/twitch/signature.js';
import { badRequest, forbidden, unavailable } from '../errors.js';
import { callbackBodyProblem } from './callback-body.js';
import { REJECTED_BODY_CHARS, type RejectedCallbacks } from './rejected-callbacks.js';

export interface EventSubRouteDeps {
  secret: string;
  bodyLimit: number;
  callbacks: Queue;
  /** Whether the processor has fully handled this message id (a replay or a Twitch retry). */
  isProcessed: (messageId: string) => Promise<boolean>;
  /** Where signed bodies that cannot be processed are kept for inspection. */
  rejected: RejectedCallbacks;
  log: Logger;
  now?: () => number;
  /** How long to wait for Redis before telling Twitch to retry. */
  enqueueTimeoutMs?: number;
}

/** Header value, or undefined when absent; a repeated header is never a valid one. */
function single(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Node joins a repeated unknown header into one "a, b" value; the distinct list shows it. */
const repeatedHeader = (req: Request): string | undefined =>
  Object.values(H).find((name) => (req.headersDistinct[name]?.length ?? 0) > 1);

/** BullMQ job ids may not contain ':' and Twitch message ids are opaque; a digest is safe. */
export const callbackJobId = (messageId: string): string =>
  `m-${createHash('sha256').update(messageId).digest('base64url')}`;

/**
 * Twitch EventSub intake: verify, answer the challenge, or durably queue and only then
 * acknowledge. It does no processing, so Twitch always gets its answer within milliseconds.
 */
export function eventSubRoute(deps: EventSubRouteDeps): Router {
  const now = deps.now ?? Date.now;
  const timeoutMs = deps.enqueueTimeoutMs ?? 3000;
  const router = Router();

  router.post('/', express.raw({ type: () => true, limit: deps.bodyLimit }), async (req, res) => {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const messageId = single(req, H.messageId);
    const timestamp = single(req, H.messageTimestamp);
    const signature = single(req, H.messageSignature);
    const messageType = single(req, H.messageType);
    const log = deps.log.child({ reqId: req.id, msgId: messageId, messageType });

    const repeated = repeatedHeader(req);
    if (repeated) {
      log.warn(`Rejected EventSub request with a repeated ${repeated} header`);
      throw badRequest(`Header ${repeated} appears more than once`, 'repeated_header');
    }
    if (!messageId || !timestamp || !signature) {
      log.warn('Rejected EventSub request without message id, timestamp or signature');
      throw forbidden(
        'Missing Twitch-Eventsub-Message-Id, -Timestamp or -Signature header',
        'missing_signature',
      );
    }
    if (!verifyEventSubSignature(deps.secret, messageId, timestamp, body, signature)) {
      log.warn(`Rejected EventSub message ${messageId}: bad signature`);
      throw forbidden('Signature does not match', 'bad_signature');
    }
    const sentAt = Date.parse(timestamp);
    if (!Number.isFinite(sentAt) || Math.abs(now() - sentAt) > FRESHNESS_WINDOW_MS) {
      log.warn(
        { timestamp },
        `Rejected EventSub message ${messageId}: timestamp ${timestamp} is outside 10 minutes`,
      );
      throw forbidden(
        'Message timestamp is missing, older than 10 minutes, or in the future',
        'stale_timestamp',
      );
    }

    if (messageType === MESSAGE_TYPES.verification) {
      let challenge: unknown;
      try {
        challenge = (JSON.parse(body.toString('utf8')) as { challenge?: unknown }).challenge;
      } catch {
        throw badRequest('Verification body is not JSON');
      }
      if (typeof challenge !== 'string' || challenge === '') {
        throw badRequest('Verification body has no challenge');
      }
      log.info(`Answered EventSub challenge for message ${messageId}`);
      res.locals.webhookOutcome = 'challenge';
      res.status(200).type('text/plain').send(challenge);
      return;
    }
    if (messageType !== MESSAGE_TYPES.notification && messageType !== MESSAGE_TYPES.revocation) {
      log.warn(`Ignored EventSub message ${messageId} of unknown type ${String(messageType)}`);
      res.locals.webhookOutcome = 'unknown_type';
      res.status(204).end();
      return;
    }

    const bodyText = body.toString('utf8');
    const problem = callbackBodyProblem(bodyText, messageType);
    if (problem) {
      await keepRejected(log, messageId, messageType, req, bodyText, problem);
      throw badRequest(`Unusable EventSub ${messageType}: ${problem}`, 'unusable_body');
    }
    // Only a shortcut: the processor drops a processed message id anyway. So a failed check
    // (Redis still connecting, or away) lets the enqueue below decide between 202 and 503.
    const processed = await withTimeout(deps.isProcessed(messageId), timeoutMs).catch(
      (error: unknown) => {
        log.warn({ err: error }, `Could not check whether ${messageId} was processed; queuing it`);
        return false;
      },
    );
    if (processed) {
      // Twitch retries keep the message id: 2xx, as PROTOCOL.md section 1.5 asks, and no work.
      log.info(`Acknowledged EventSub message ${messageId} again: already processed`);
      res.locals.webhookOutcome = 'duplicate';
      res.status(204).end();
      return;
    }

    const job = enqueue(
      deps.callbacks,
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
      log.error(
        { err: error },
        `Could not queue EventSub message ${messageId}; answering 503 so Twitch retries`,
      );
      throw unavailable('Cannot queue the message right now; please retry');
    }
    log.debug(`Queued EventSub ${messageType} ${messageId}`);
    res.locals.webhookOutcome =
      messageType === MESSAGE_TYPES.revocation ? 'revocation' : 'accepted';
    res.status(202).end();
  });

  async function keepRejected(
    log: Logger,
    messageId: string,
    messageType: string,
    req: Request,
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
  return router;
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
