import { ksuidAt, timeAt, uuidAt, type Rng } from './random.js';

export interface FakeUser {
  id: string;
  login: string;
  displayName: string;
}

export interface BuiltEvent {
  type: string;
  version: string;
  condition: Record<string, string>;
  event: Record<string, unknown>;
}

export interface BuildContext {
  /** Whose channel the event is on. */
  broadcaster: FakeUser;
  /** Who caused it: the follower, subscriber, chatter, banned user, raider... */
  user: FakeUser;
  /** A second person where a type has one: raiding channel, moderator, contributor, parent. */
  other?: FakeUser;
  now?: Date;
  random?: () => number;
  /** Merged into the event last. */
  overrides?: Record<string, unknown>;
}

/** What one builder gets: the people, the clock and the dice. */
export interface Ctx {
  broadcaster: FakeUser;
  user: FakeUser;
  other: FakeUser | undefined;
  now: Date;
  rng: Rng;
  /** RFC 3339 with nanoseconds, `offsetMs` from now. */
  at(offsetMs?: number): string;
  uuid(): string;
  ksuid(): string;
}

export interface EventBuilder {
  version: string;
  /** The subscription condition, read from the finished event so overrides carry over. */
  condition?: (event: Record<string, unknown>) => Record<string, string>;
  build: (c: Ctx) => Record<string, unknown>;
}

export function ctxOf(ctx: BuildContext, rng: Rng): Ctx {
  const now = ctx.now ?? new Date();
  return {
    broadcaster: ctx.broadcaster,
    user: ctx.user,
    other: ctx.other,
    now,
    rng,
    at: (offsetMs = 0) => timeAt(now, rng, offsetMs),
    uuid: () => uuidAt(now, rng),
    ksuid: () => ksuidAt(now, rng),
  };
}

/** `{<prefix>_id, <prefix>_login, <prefix>_name}` for one user. */
export const userFields = (prefix: string, u: FakeUser) => ({
  [`${prefix}_id`]: u.id,
  [`${prefix}_login`]: u.login,
  [`${prefix}_name`]: u.displayName,
});

/** The same three fields, all null: an anonymous cheer or gift. */
export const nullUserFields = (prefix: string) => ({
  [`${prefix}_id`]: null,
  [`${prefix}_login`]: null,
  [`${prefix}_name`]: null,
});

export const channelOf = (c: Ctx) => userFields('broadcaster_user', c.broadcaster);

const text = (value: unknown): string => (typeof value === 'string' ? value : String(value));

/** The condition most types are created with. */
export const byBroadcaster = (event: Record<string, unknown>) => ({
  broadcaster_user_id: text(event.broadcaster_user_id),
});

/** Chat types also name the user the app reads chat as: here the broadcaster. */
export const byBroadcasterAsUser = (event: Record<string, unknown>) => ({
  broadcaster_user_id: text(event.broadcaster_user_id),
  user_id: text(event.broadcaster_user_id),
});

export const byField =
  (key: string) =>
  (event: Record<string, unknown>): Record<string, string> => ({ [key]: text(event[key]) });

export const TIERS: ReadonlyArray<readonly ['1000' | '2000' | '3000', number]> = [
  ['1000', 80],
  ['2000', 12],
  ['3000', 8],
];
export const tierNumber = (tier: string) => tier.charAt(0);
