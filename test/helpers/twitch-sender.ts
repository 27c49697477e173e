import { randomUUID } from 'node:crypto';
import { eventSubHeaders } from '../../src/shared/twitch/eventsub-delivery.js';
import type { TwitchPayload } from './twitch.js';

export interface SendReport {
  /** Messages that got a 2xx in the end. */
  acknowledged: number;
  /** Answers by status, over every attempt. */
  statuses: Map<number, number>;
  /** Attempts that got no answer at all (refused, reset, or past the timeout), with why. */
  unanswered: string[];
  /** Acknowledged messages delivered once more under the same message id. */
  replayed: number;
}

export interface SendOptions {
  webhookUrl: string;
  secret: string;
  payloads: TwitchPayload[];
  /** Deliveries in flight at once, as Twitch sends in parallel. */
  concurrency: number;
  /** Twitch's answer timeout; a slower answer counts as unanswered and is retried. */
  timeoutMs?: number;
  /** Starts of first attempts spread evenly at this rate: a steady stream, not a burst. */
  ratePerSecond?: number;
  /** Every Nth acknowledged message is delivered again, as Twitch's at-least-once may. */
  replayEvery?: number;
  /** Called after each acknowledgement, with how many there are so far. */
  onAcknowledged?: (count: number) => Promise<void> | void;
}

const MAX_RETRIES = 120;

/**
 * Delivers each payload as Twitch does: signed, under one message id kept across retries, and
 * retried after a failure (any non-2xx or no answer) until it is acknowledged.
 */
export async function sendLikeTwitch(options: SendOptions): Promise<SendReport> {
  const report: SendReport = {
    acknowledged: 0,
    statuses: new Map(),
    unanswered: [],
    replayed: 0,
  };
  const sendOne = async (payload: TwitchPayload) => {
    const messageId = randomUUID();
    await deliverUntilAcknowledged(payload, messageId);
    report.acknowledged++;
    const replay = options.replayEvery && report.acknowledged % options.replayEvery === 0;
    if (replay) {
      await deliverUntilAcknowledged(payload, messageId);
      report.replayed++;
    }
    await options.onAcknowledged?.(report.acknowledged);
  };
  const deliverUntilAcknowledged = async (payload: TwitchPayload, messageId: string) => {
    const body = JSON.stringify(payload);
    for (let retry = 0; ; retry++) {
      if (retry === MAX_RETRIES) {
        throw new Error(`message ${messageId} still unacknowledged after ${MAX_RETRIES} retries`);
      }
      const headers = eventSubHeaders(options.secret, {
        body,
        messageType: 'notification',
        subscriptionType: payload.subscription.type,
        subscriptionVersion: payload.subscription.version,
        messageId,
        retry,
      });
      try {
        const response = await fetch(options.webhookUrl, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
        await response.arrayBuffer();
        report.statuses.set(response.status, (report.statuses.get(response.status) ?? 0) + 1);
        if (response.ok) break;
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        report.unanswered.push(cause?.code ?? cause?.message ?? (error as Error).message);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** retry, 1000)));
    }
  };
  const startedAt = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < options.payloads.length) {
        const n = next++;
        if (options.ratePerSecond) {
          const due = startedAt + (n * 1000) / options.ratePerSecond;
          await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
        }
        await sendOne(options.payloads[n]!);
      }
    }),
  );
  return report;
}
