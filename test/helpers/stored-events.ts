/**
 * Events as the processor stores them, on a realistic mix: the simulator's EventSub payloads
 * (src/simulator/event-factory.ts) in the traffic generator's mix of a busy channel's day
 * (DEFAULT_TYPE_MIX: chat messages 40%, follows 15%, cheers 8%, subs 7%, resubs 6%, chat
 * notifications 6%, redemptions 5%, gifts 3%...), over streamers weighted 1/rank as the traffic
 * generator weighs them, normalised and sanitised as the callback processor does, with ids made
 * the way event-identity.ts makes them, a message id each and a feed position per streamer.
 */
import { createHash, randomUUID } from 'node:crypto';
import { canonicalJson } from '../../src/shared/events/canonical-json.js';
import type { StreamEvent } from '../../src/shared/events/event.js';
import { hasOccurrenceIdentity } from '../../src/shared/events/event-identity.js';
import { normalizeEvent } from '../../src/shared/events/normalize.js';
import { sanitizeText } from '../../src/shared/events/sanitize.js';
import {
  buildEvent,
  fakeUsers,
  seededRandom,
  type FakeUser,
} from '../../src/simulator/event-factory.js';
import { rngOf } from '../../src/simulator/event-factory/random.js';
import { twitchTimestamp } from '../../src/shared/twitch/eventsub-delivery.js';
import { DEFAULT_TYPE_MIX } from '../../src/simulator/traffic/traffic-generator.js';

export interface StoredEvent {
  event: StreamEvent;
  messageId: string;
  seq: number;
}

const VIEWERS = 1000;
const digest = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);

/** The mix, as shares that sum to 1, for the report. */
export function typeShares(): Record<string, number> {
  const total = Object.values(DEFAULT_TYPE_MIX).reduce((a, b) => a + b, 0);
  return Object.fromEntries(
    Object.entries(DEFAULT_TYPE_MIX).map(([type, weight]) => [type, weight / total]),
  );
}

/** A seeded source of stored events over `streamers` streamers (busiest first). */
export function createEventSource(options: { streamers: number; seed: number }) {
  const rng = rngOf(seededRandom(options.seed));
  const people = fakeUsers(options.streamers + VIEWERS, rng.random);
  const streamers = people.slice(0, options.streamers);
  const weighted = streamers.map((s, i) => [s, 1 / (i + 1)] as const);
  const viewers = people.slice(options.streamers);
  const types = Object.entries(DEFAULT_TYPE_MIX);
  const seqs = new Map<string, number>();

  function next(): StoredEvent {
    const broadcaster = rng.weighted(weighted);
    const type = rng.weighted(types);
    const others: FakeUser[] = type === 'channel.raid' ? streamers : viewers;
    let other = rng.pick(others);
    if (other === broadcaster) other = rng.pick(viewers);
    const built = buildEvent(type, {
      broadcaster,
      user: rng.pick(viewers),
      other,
      random: rng.random,
    });
    const messageId = randomUUID();
    const subscription = { type, version: built.version, condition: built.condition };
    const draft = sanitizeText(normalizeEvent(subscription, built.event, twitchTimestamp()));
    const id = hasOccurrenceIdentity(built.event)
      ? `ev_${digest(`${draft.broadcasterId}\n${type}\n${canonicalJson(built.event)}`)}`
      : `ev_${digest(`${draft.broadcasterId}\n${messageId}`)}`;
    const seq = (seqs.get(draft.broadcasterId) ?? 0) + 1;
    seqs.set(draft.broadcasterId, seq);
    return { event: { id, ...draft }, messageId, seq };
  }

  return {
    streamers,
    next,
    take: (count: number) => Array.from({ length: count }, next),
  };
}
