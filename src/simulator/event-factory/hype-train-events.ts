import { fakeUsers } from './fake-users.js';
import { channelOf, userFields, type Ctx, type EventBuilder, type FakeUser } from './types.js';

const MINUTE = 60_000;
/** Points needed to clear `level`. */
const goalOf = (level: number) => 500 + 400 * (level - 1);
/** Points of every level below `level`. */
const clearedBelow = (level: number) =>
  Array.from({ length: level - 1 }, (_, i) => goalOf(i + 1)).reduce((a, b) => a + b, 0);

/** Up to `max` top contributors whose totals fit in the train's `total`, biggest first. */
function contributions(c: Ctx, total: number, max: number) {
  const people: FakeUser[] = [c.user, ...(c.other ? [c.other] : [])];
  const count = c.rng.int(1, max);
  if (people.length < count) people.push(...fakeUsers(count - people.length, c.rng.random));
  const list: Array<Record<string, unknown> & { total: number }> = [];
  let left = total;
  for (const person of people.slice(0, count)) {
    if (left < 1) break;
    // A subscription counts 500, 1000 or 2500 points by tier.
    const subs = [500, 1000, 2500].filter((points) => points <= left);
    const type =
      subs.length && c.rng.chance(0.4) ? 'subscription' : c.rng.chance(0.9) ? 'bits' : 'other';
    const points =
      type === 'subscription'
        ? c.rng.pick(subs)
        : Math.max(1, Math.floor(left * (0.2 + 0.6 * c.rng.random())));
    list.push({ ...userFields('user', person), type, total: points });
    left -= points;
  }
  return list.sort((a, b) => b.total - a.total);
}

/** The fields begin, progress and end share, in the docs' order around the times. */
function train(c: Ctx, level: number, progress: number) {
  const shared = c.rng.chance(0.1);
  const partner = c.other ?? fakeUsers(1, c.rng.random)[0]!;
  const total = clearedBelow(level) + progress;
  return {
    id: c.ksuid(),
    ...channelOf(c),
    total,
    progress,
    goal: goalOf(level),
    top_contributions: contributions(c, total, 3),
    shared_train_participants: shared
      ? [c.broadcaster, partner].map((p) => userFields('broadcaster_user', p))
      : null,
    level,
    is_shared_train: shared,
    type: c.rng.weighted([
      ['regular', 88],
      ['golden_kappa', 6],
      ['treasure', 6],
    ] as const),
  };
}

export const hypeTrainBuilders: Record<string, EventBuilder> = {
  'channel.hype_train.begin': {
    version: '2',
    build: (c) => {
      const { is_shared_train, type, ...rest } = train(c, 1, c.rng.int(100, goalOf(1) - 1));
      const record = c.rng.int(1, 12);
      return {
        ...rest,
        started_at: c.at(-c.rng.int(0, 5000)),
        expires_at: c.at(5 * MINUTE),
        is_shared_train,
        type,
        all_time_high_level: record,
        all_time_high_total: Math.max(rest.total, clearedBelow(record) + c.rng.int(0, 499)),
      };
    },
  },
  'channel.hype_train.progress': {
    version: '2',
    build: (c) => {
      const level = c.rng.int(1, 6);
      const base = train(c, level, c.rng.int(0, goalOf(level) - 1));
      const { is_shared_train, type, ...rest } = base;
      return {
        ...rest,
        started_at: c.at(-c.rng.int(1, 15) * MINUTE),
        expires_at: c.at(c.rng.int(60_000, 5 * MINUTE)),
        is_shared_train,
        type,
      };
    },
  },
  'channel.hype_train.end': {
    version: '2',
    build: (c) => {
      const level = c.rng.int(1, 8);
      const base = train(c, level, c.rng.int(0, goalOf(level) - 1));
      const { id, total, top_contributions, shared_train_participants } = base;
      return {
        id,
        ...channelOf(c),
        total,
        top_contributions,
        shared_train_participants,
        level,
        started_at: c.at(-c.rng.int(5, 30) * MINUTE),
        ended_at: c.at(),
        cooldown_ends_at: c.at(60 * MINUTE),
        is_shared_train: base.is_shared_train,
        type: base.type,
      };
    },
  },
};
