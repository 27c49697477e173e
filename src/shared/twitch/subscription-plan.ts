import type { NewSubscription } from './helix-client.js';

/** An event type that a streamer's grant of any one of `scopes` unlocks (streamer mode). */
interface ScopedType {
  type: string;
  version: string;
  scopes: string[];
  /** follow v2 names the streamer as their own moderator. */
  moderator?: boolean;
}

const subscriptionScopes = ['channel:read:subscriptions'];
const SCOPED_TYPES: ScopedType[] = [
  { type: 'channel.follow', version: '2', scopes: ['moderator:read:followers'], moderator: true },
  ...['channel.subscribe', 'channel.subscription.gift', 'channel.subscription.message'].map(
    (type) => ({ type, version: '1', scopes: subscriptionScopes }),
  ),
  { type: 'channel.cheer', version: '1', scopes: ['bits:read'] },
  ...['begin', 'progress', 'end'].map((phase) => ({
    type: `channel.hype_train.${phase}`,
    version: '2',
    scopes: ['channel:read:hype_train'],
  })),
  ...['begin', 'progress', 'end'].map((phase) => ({
    type: `channel.poll.${phase}`,
    version: '1',
    scopes: ['channel:read:polls', 'channel:manage:polls'],
  })),
  ...['begin', 'progress', 'lock', 'end'].map((phase) => ({
    type: `channel.prediction.${phase}`,
    version: '1',
    scopes: ['channel:read:predictions', 'channel:manage:predictions'],
  })),
  {
    type: 'channel.channel_points_custom_reward_redemption.add',
    version: '1',
    scopes: ['channel:read:redemptions', 'channel:manage:redemptions'],
  },
];

/** The scopes streamer mode asks for: enough for every scoped type above. */
export const STREAMER_MODE_SCOPES = [
  'moderator:read:followers',
  'channel:read:subscriptions',
  'bits:read',
  'channel:read:hype_train',
  'channel:read:polls',
  'channel:read:predictions',
  'channel:read:redemptions',
];

/**
 * One shared set of subscriptions per streamer: what needs no consent always, and what the
 * streamer's own grant unlocks.
 */
export function plannedSubscriptions(
  broadcasterId: string,
  grantedScopes: readonly string[],
): NewSubscription[] {
  const own = { broadcaster_user_id: broadcasterId };
  const plan: NewSubscription[] = [
    { type: 'stream.online', version: '1', condition: own },
    { type: 'stream.offline', version: '1', condition: own },
    { type: 'channel.update', version: '2', condition: own },
    { type: 'channel.raid', version: '1', condition: { to_broadcaster_user_id: broadcasterId } },
    { type: 'channel.raid', version: '1', condition: { from_broadcaster_user_id: broadcasterId } },
  ];
  for (const scoped of SCOPED_TYPES) {
    if (!scoped.scopes.some((scope) => grantedScopes.includes(scope))) continue;
    plan.push({
      type: scoped.type,
      version: scoped.version,
      condition: scoped.moderator ? { ...own, moderator_user_id: broadcasterId } : own,
    });
  }
  return plan;
}

/** A stable key for one type + version + condition, whatever the key order of the condition. */
export function subscriptionKey(sub: NewSubscription): string {
  const condition = Object.entries(sub.condition).sort(([a], [b]) => (a < b ? -1 : 1));
  return `${sub.type}@${sub.version}:${JSON.stringify(condition)}`;
}

/** Statuses of a subscription that delivers, or soon will. */
export const LIVE_SUBSCRIPTION_STATUSES: ReadonlySet<string> = new Set([
  'enabled',
  'webhook_callback_verification_pending',
]);

/** Whether every planned subscription has a live record: choosing the streamer creates nothing. */
export function isFullySubscribed(
  planned: readonly NewSubscription[],
  records: ReadonlyArray<NewSubscription & { status: string }>,
): boolean {
  const live = new Set(
    records.filter((r) => LIVE_SUBSCRIPTION_STATUSES.has(r.status)).map(subscriptionKey),
  );
  return planned.every((p) => live.has(subscriptionKey(p)));
}
