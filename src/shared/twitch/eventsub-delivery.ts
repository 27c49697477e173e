import { randomUUID } from 'node:crypto';
import { EVENTSUB_HEADERS as H } from './eventsub-headers.js';
import { signEventSub } from './signature.js';

export interface EventSubDelivery {
  body: string;
  messageType: 'notification' | 'webhook_callback_verification' | 'revocation';
  subscriptionType: string;
  subscriptionVersion: string;
  messageId?: string;
  /** RFC3339 with nanoseconds, as Twitch sends it; now by default. */
  timestamp?: string;
  retry?: number;
}

/** RFC3339 with nanosecond precision, the way Twitch writes timestamps. */
export const twitchTimestamp = (date = new Date()): string =>
  date.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');

/** The headers Twitch sends with one EventSub webhook request, signed over the exact body. */
export function eventSubHeaders(
  secret: string,
  delivery: EventSubDelivery,
): Record<string, string> {
  const messageId = delivery.messageId ?? randomUUID();
  const timestamp = delivery.timestamp ?? twitchTimestamp();
  return {
    'content-type': 'application/json',
    [H.messageId]: messageId,
    [H.messageRetry]: String(delivery.retry ?? 0),
    [H.messageType]: delivery.messageType,
    [H.messageSignature]: signEventSub(secret, messageId, timestamp, delivery.body),
    [H.messageTimestamp]: timestamp,
    [H.subscriptionType]: delivery.subscriptionType,
    [H.subscriptionVersion]: delivery.subscriptionVersion,
  };
}
