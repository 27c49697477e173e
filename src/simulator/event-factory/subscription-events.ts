import { cheerText, emotePositions, SUB_MESSAGES } from './messages.js';
import { channelOf, nullUserFields, TIERS, userFields, type EventBuilder } from './types.js';

const BITS: ReadonlyArray<readonly [number, number]> = [
  [1, 10],
  [50, 10],
  [100, 35],
  [500, 15],
  [1000, 15],
  [2500, 5],
  [5000, 5],
  [10_000, 3],
  [69, 2],
];
const GIFT_TOTALS: ReadonlyArray<readonly [number, number]> = [
  [1, 50],
  [5, 20],
  [10, 15],
  [20, 7],
  [50, 5],
  [100, 3],
];

const subOrEnd: EventBuilder = {
  version: '1',
  build: (c) => ({
    ...userFields('user', c.user),
    ...channelOf(c),
    tier: c.rng.weighted(TIERS),
    is_gift: c.rng.chance(0.2),
  }),
};

export const subscriptionBuilders: Record<string, EventBuilder> = {
  'channel.subscribe': subOrEnd,
  'channel.subscription.end': subOrEnd,
  'channel.subscription.gift': {
    version: '1',
    build: (c) => {
      const anonymous = c.rng.chance(0.15);
      const total = c.rng.weighted(GIFT_TOTALS);
      // Null when the gift is anonymous or the gifter keeps their total private.
      const shared = !anonymous && c.rng.chance(0.7);
      return {
        ...(anonymous ? nullUserFields('user') : userFields('user', c.user)),
        ...channelOf(c),
        total,
        tier: c.rng.weighted(TIERS),
        cumulative_total: shared ? total + c.rng.int(0, 500) : null,
        is_anonymous: anonymous,
      };
    },
  },
  'channel.subscription.message': {
    version: '1',
    build: (c) => {
      const text = c.rng.chance(0.85) ? c.rng.pick(SUB_MESSAGES) : '';
      const cumulative = c.rng.int(2, 72);
      return {
        ...userFields('user', c.user),
        ...channelOf(c),
        tier: c.rng.weighted(TIERS),
        message: { text, emotes: emotePositions(text) },
        cumulative_months: cumulative,
        // Null when the subscriber does not share their streak.
        streak_months: c.rng.chance(0.3) ? null : c.rng.int(1, cumulative),
        duration_months: c.rng.pick([1, 1, 1, 1, 3, 6]),
      };
    },
  },
  'channel.cheer': {
    version: '1',
    build: (c) => {
      const anonymous = c.rng.chance(0.1);
      const bits = c.rng.weighted(BITS);
      return {
        is_anonymous: anonymous,
        ...(anonymous ? nullUserFields('user') : userFields('user', c.user)),
        ...channelOf(c),
        message: cheerText(bits, c.rng),
        bits,
      };
    },
  },
};
