import { MESSAGE_TYPES } from '../../shared/twitch/eventsub-headers.js';

/** Twitch's payloads nest about six levels; anything far deeper is not from Twitch. */
export const MAX_JSON_DEPTH = 32;

/**
 * The deepest nesting of `[` and `{` in a JSON text, counted in one pass without parsing, so
 * that a deeply nested body is refused before it can exhaust a worker's stack (JSON.parse
 * accepts 500,000 levels; JSON.stringify of the result overflows).
 */
export function jsonDepth(text: string, stopAbove = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      // A backslash escapes the next character, which may be a quote.
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > stopAbove) return deepest;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return deepest;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** What a JSON value is, for a message that says what was expected instead. */
const kindOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;

/**
 * The `challenge` of a signed verification request (PROTOCOL.md section 1.4), or why there is
 * none: the body is not JSON, is JSON but not an object (`null`, an array, a number), or has no
 * non-empty string `challenge`.
 */
export function verificationChallenge(body: string): { challenge: string } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { problem: 'Verification body is not JSON' };
  }
  if (!isObject(parsed)) {
    return { problem: `Verification body is ${kindOf(parsed)}, not a JSON object` };
  }
  const { challenge } = parsed;
  if (typeof challenge !== 'string' || challenge === '') {
    return { problem: 'Verification body has no challenge' };
  }
  return { challenge };
}

/** What intake reads of a usable body: the streamer it concerns, to pick the callback's shard. */
export interface CallbackBody {
  /** The condition's broadcaster (or raid's to/from side, or user), when it has one. */
  streamerId: string | null;
}

/**
 * A signed notification or revocation body with the shape PROTOCOL.md section 1.3 gives
 * (`subscription` with a `type`, and an `event` for a notification), or why it cannot be
 * processed. The processor checks each type's fields; this only keeps out what is not EventSub
 * at all.
 */
export function readCallbackBody(
  body: string,
  messageType: string,
): { problem: string } | CallbackBody {
  const depth = jsonDepth(body);
  if (depth > MAX_JSON_DEPTH) {
    return { problem: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    return { problem: `body is not JSON (${(error as Error).message})` };
  }
  if (!isObject(parsed)) return { problem: 'body is not a JSON object' };
  const { subscription, event, events } = parsed;
  if (!isObject(subscription) || typeof subscription.type !== 'string') {
    return { problem: 'body has no subscription with a type' };
  }
  // drop.entitlement.grant batches its events in `events` (PROTOCOL.md section 1.7).
  if (messageType === MESSAGE_TYPES.notification && !isObject(event) && !Array.isArray(events)) {
    return { problem: 'notification has no event' };
  }
  return { streamerId: conditionStreamer(subscription.condition) };
}

const CONDITION_STREAMER_FIELDS = [
  'broadcaster_user_id',
  'to_broadcaster_user_id',
  'from_broadcaster_user_id',
  'user_id',
];

function conditionStreamer(condition: unknown): string | null {
  if (!isObject(condition)) return null;
  for (const field of CONDITION_STREAMER_FIELDS) {
    const value = condition[field];
    if (typeof value === 'string' && value !== '') return value;
  }
  return null;
}

/** Why a body cannot be processed, or null: readCallbackBody's verdict alone. */
export function callbackBodyProblem(body: string, messageType: string): string | null {
  const read = readCallbackBody(body, messageType);
  return 'problem' in read ? read.problem : null;
}
