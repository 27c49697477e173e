import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  eventSubHeaders,
  type EventSubDelivery,
} from '../../src/shared/twitch/eventsub-delivery.js';
import { repoRoot } from './processes.js';

export const payloadDir = path.resolve(repoRoot, '..', 'shared', 'twitch', 'payloads');

export interface TwitchPayload {
  subscription: {
    id: string;
    type: string;
    version: string;
    condition: Record<string, unknown>;
    status?: string;
  };
  event?: Record<string, unknown>;
  challenge?: string;
}

/** Every docs example body, by file name without `.json`. */
export function loadPayloads(): Map<string, TwitchPayload> {
  const payloads = new Map<string, TwitchPayload>();
  for (const file of readdirSync(payloadDir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    payloads.set(
      file.replace(/\.json$/, ''),
      JSON.parse(readFileSync(path.join(payloadDir, file), 'utf8')) as TwitchPayload,
    );
  }
  return payloads;
}

export interface PostResult {
  status: number;
  body: string;
  contentType: string | null;
  messageId: string;
  /** The id `web` gave the request (`x-request-id`), which its log lines carry. */
  requestId: string | null;
}

/** POSTs a body to the webhook as Twitch would: compact bytes, signed as sent. */
export async function deliver(
  webhookUrl: string,
  secret: string,
  delivery: Omit<EventSubDelivery, 'messageType'> & {
    messageType?: EventSubDelivery['messageType'];
  },
  tamper?: (headers: Record<string, string>) => void,
): Promise<PostResult> {
  const headers = eventSubHeaders(secret, { messageType: 'notification', ...delivery });
  tamper?.(headers);
  const response = await fetch(webhookUrl, { method: 'POST', headers, body: delivery.body });
  return {
    status: response.status,
    body: await response.text(),
    contentType: response.headers.get('content-type'),
    requestId: response.headers.get('x-request-id'),
    messageId: headers['twitch-eventsub-message-id'] ?? '',
  };
}

/** A notification body for `payload` with its event changed by `edit`. */
export function notificationBody(
  payload: TwitchPayload,
  edit: (event: Record<string, unknown>) => void = () => undefined,
): string {
  const event = structuredClone(payload.event ?? {});
  edit(event);
  return JSON.stringify({ subscription: payload.subscription, event });
}

/** A `channel.follow` v2 notification payload: `userId` follows `broadcasterId` at `followedAt`. */
export function followPayload(
  broadcasterId: string,
  userId: string,
  followedAt = new Date(),
): TwitchPayload {
  return {
    subscription: {
      id: randomUUID(),
      type: 'channel.follow',
      version: '2',
      condition: { broadcaster_user_id: broadcasterId, moderator_user_id: broadcasterId },
    },
    event: {
      user_id: userId,
      user_login: `fan_${userId}`,
      user_name: `Fan_${userId}`,
      broadcaster_user_id: broadcasterId,
      broadcaster_user_login: `streamer_${broadcasterId}`,
      broadcaster_user_name: `Streamer_${broadcasterId}`,
      followed_at: followedAt.toISOString(),
    },
  };
}
