import type { EventDraft, SubscriptionInfo } from './event.js';
import {
  authorizationBroadcasters,
  authorizationNormalizers,
} from './normalizers/authorization.js';
import { camelCaseKeys } from './normalizers/case.js';
import { channelNormalizers } from './normalizers/channel.js';
import { chatNormalizers } from './normalizers/chat.js';
import { fieldsOf, InvalidEventError, isoTime } from './normalizers/fields.js';
import { genericBroadcaster, genericNormalizer } from './normalizers/generic.js';
import { hypeTrainNormalizers } from './normalizers/hype-train.js';
import { pollNormalizers } from './normalizers/polls.js';
import { predictionNormalizers } from './normalizers/predictions.js';
import { streamNormalizers } from './normalizers/stream.js';
import { subscriptionNormalizers } from './normalizers/subscriptions.js';
import type { BroadcasterResolver, Normalizer } from './normalizers/types.js';
import { clip } from './normalizers/wording.js';

export { InvalidEventError };

// Maps, not object literals: a type named "constructor" must not find Object's.
const NORMALIZERS = new Map<string, Normalizer>(
  Object.entries({
    ...streamNormalizers,
    ...channelNormalizers,
    ...subscriptionNormalizers,
    ...hypeTrainNormalizers,
    ...pollNormalizers,
    ...predictionNormalizers,
    ...chatNormalizers,
    ...authorizationNormalizers,
  }),
);
/** Every type with a normaliser of its own; any other type gets the generic one. */
export const NORMALIZED_TYPES: readonly string[] = [...NORMALIZERS.keys()];
const BROADCASTERS = new Map<string, BroadcasterResolver>(
  Object.entries(authorizationBroadcasters),
);
const TOP_LEVEL = new Set([
  'broadcaster_user_id',
  'broadcaster_user_login',
  'broadcaster_user_name',
]);

/**
 * Turns the `event` of an EventSub notification into the contract's Event, without its id.
 * `messageTimestamp` (the Twitch-Eventsub-Message-Timestamp header) dates events that carry no
 * time of their own. Throws InvalidEventError when the event cannot make an Event.
 */
export function normalizeEvent(
  subscription: SubscriptionInfo,
  event: Record<string, unknown>,
  messageTimestamp: string,
): EventDraft {
  const { type, condition } = subscription;
  const f = fieldsOf(event);
  const broadcaster = (BROADCASTERS.get(type) ?? genericBroadcaster)(f, condition, type);
  const normalized = (NORMALIZERS.get(type) ?? genericNormalizer(type))(f, broadcaster);
  const occurredAt =
    (normalized.timeField && f.time(normalized.timeField)) || isoTime(messageTimestamp);
  if (!occurredAt) {
    throw new InvalidEventError(
      `the ${type} event has no usable time and the message timestamp "${messageTimestamp}" is not an RFC 3339 time`,
    );
  }
  const data = Object.fromEntries(Object.entries(event).filter(([key]) => !TOP_LEVEL.has(key)));
  return {
    type,
    broadcasterId: broadcaster.id,
    broadcasterLogin: broadcaster.login,
    broadcasterName: broadcaster.name,
    occurredAt,
    actor: normalized.actor,
    summary: clip(normalized.summary),
    data: camelCaseKeys(data) as Record<string, unknown>,
  };
}
