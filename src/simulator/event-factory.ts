import { authorizationBuilders, channelBuilders } from './event-factory/channel-events.js';
import { chatBuilders } from './event-factory/chat-events.js';
import { hypeTrainBuilders } from './event-factory/hype-train-events.js';
import { pollBuilders } from './event-factory/poll-events.js';
import { predictionBuilders } from './event-factory/prediction-events.js';
import { rngOf } from './event-factory/random.js';
import { subscriptionBuilders } from './event-factory/subscription-events.js';
import {
  byBroadcaster,
  ctxOf,
  type BuildContext,
  type BuiltEvent,
  type EventBuilder,
} from './event-factory/types.js';

export { fakeUsers } from './event-factory/fake-users.js';
export { seededRandom } from './event-factory/random.js';
export { SIMULATED_CLIENT_ID } from './event-factory/channel-events.js';
export type { BuildContext, BuiltEvent, FakeUser } from './event-factory/types.js';

// A Map, not an object literal: a type named "constructor" must not find Object's.
const BUILDERS = new Map<string, EventBuilder>(
  Object.entries({
    ...channelBuilders,
    ...subscriptionBuilders,
    ...hypeTrainBuilders,
    ...pollBuilders,
    ...predictionBuilders,
    ...chatBuilders,
    ...authorizationBuilders,
  }),
);

/** Every EventSub type the simulator can build (PROTOCOL.md section 3). */
export const EVENT_TYPES: readonly string[] = Object.freeze([...BUILDERS.keys()]);

/**
 * A realistic EventSub `event` of `type` on `broadcaster`'s channel, caused by `user`, with the
 * version and condition of the subscription it is delivered to. Field names and versions are the
 * Twitch docs'; values vary with `random` (replayable with seededRandom). `overrides` win.
 */
export function buildEvent(type: string, ctx: BuildContext): BuiltEvent {
  const builder = BUILDERS.get(type);
  if (!builder) {
    throw new Error(
      `Unknown EventSub type "${type}": the simulator builds ${EVENT_TYPES.join(', ')}`,
    );
  }
  const event = {
    ...builder.build(ctxOf(ctx, rngOf(ctx.random ?? Math.random))),
    ...ctx.overrides,
  };
  return {
    type,
    version: builder.version,
    condition: (builder.condition ?? byBroadcaster)(event),
    event,
  };
}
