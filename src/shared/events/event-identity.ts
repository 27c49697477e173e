import { createHash } from 'node:crypto';
import type { RedisClient } from '../connections/redis.js';
import { canonicalJson } from './canonical-json.js';

const digest = (text: string): string =>
  createHash('sha256').update(text).digest('base64url').slice(0, 22);

/**
 * True when the event's own fields single out one occurrence (an id, or a time it happened), so
 * that equal content means the same event. stream.offline, channel.update, channel.subscribe and
 * the like carry neither: two genuine occurrences can be byte-identical.
 */
export function hasOccurrenceIdentity(event: Record<string, unknown>): boolean {
  return Object.entries(event).some(
    ([key, value]) =>
      value !== null &&
      value !== '' &&
      (key === 'id' || key === 'message_id' || key.endsWith('_at')),
  );
}

/**
 * The id of one follow, the same whether EventSub delivered it (`followed_at` to nanoseconds) or
 * Helix listed it (`followed_at` to the second): broadcaster + follower + the follow's second.
 */
export function followEventId(broadcasterId: string, userId: string, followedAt: string): string {
  const ms = Date.parse(followedAt);
  const second = Number.isNaN(ms)
    ? followedAt
    : new Date(ms - (((ms % 1000) + 1000) % 1000)).toISOString();
  return `ev_${digest(`${broadcasterId}\nchannel.follow\n${userId}\n${second}`)}`;
}

const followOf = (input: EventIdentityInput): string | null => {
  const { user_id: userId, followed_at: followedAt } = input.event;
  if (input.type !== 'channel.follow') return null;
  if (typeof userId !== 'string' || !userId || typeof followedAt !== 'string') return null;
  return followEventId(input.broadcasterId, userId, followedAt);
};

export interface EventIdentityInput {
  broadcasterId: string;
  type: string;
  event: Record<string, unknown>;
  messageId: string;
}

export interface EventIdentity {
  id: string;
  /** True when an earlier delivery with another message id already claimed this content. */
  duplicateContent: boolean;
}

/**
 * Gives every delivery of one Twitch event the same id: a retry keeps its message id, and a
 * re-send with a new message id (twitchdev/issues#918) keeps its content.
 */
export function createEventIdentity(redis: RedisClient, prefix: string, windowSeconds: number) {
  return async function identify(input: EventIdentityInput): Promise<EventIdentity> {
    // A follow has two sources (EventSub, and Helix for the backfill): its id may depend only on
    // what both give, not on names the follower may have changed since.
    const follow = followOf(input);
    if (follow) return { id: follow, duplicateContent: false };
    const content = digest(`${input.broadcasterId}\n${input.type}\n${canonicalJson(input.event)}`);
    if (hasOccurrenceIdentity(input.event)) return { id: `ev_${content}`, duplicateContent: false };

    // Content alone cannot tell a re-send from a new occurrence, so content only counts as the
    // same event within the dedupe window; the first message id names the event.
    const candidate = `ev_${digest(`${input.broadcasterId}\n${input.messageId}`)}`;
    const key = `${prefix}:dedupe:content:${content}`;
    const claimed = await redis.set(key, candidate, 'EX', windowSeconds, 'NX');
    if (claimed === 'OK') return { id: candidate, duplicateContent: false };
    const owner = await redis.get(key);
    // The key can expire between SET and GET; then this delivery simply owns the event.
    if (owner === null) return { id: candidate, duplicateContent: false };
    return { id: owner, duplicateContent: owner !== candidate };
  };
}

export type IdentifyEvent = ReturnType<typeof createEventIdentity>;
