/** What Twitch requires to create one subscription type (PROTOCOL.md section 3). */
export interface SubscriptionTypeRule {
  version: string;
  /** Condition keys that must be present (non-empty strings). */
  condition: string[];
  /** Exactly one of these keys must be present (channel.raid). */
  oneOf?: string[];
  /** Scopes, any one of which the authorizing user must have granted; none means no auth. */
  scopes: string[];
  /** The condition key naming the user whose grant counts. */
  authorizer?: string;
}

const broadcaster = ['broadcaster_user_id'];
const rule = (
  version: string,
  scopes: string[] = [],
  condition = broadcaster,
  authorizer = 'broadcaster_user_id',
): SubscriptionTypeRule => ({
  version,
  condition,
  scopes,
  ...(scopes.length ? { authorizer } : {}),
});
const subs = ['channel:read:subscriptions'];
const hype = ['channel:read:hype_train'];
const polls = ['channel:read:polls', 'channel:manage:polls'];
const predictions = ['channel:read:predictions', 'channel:manage:predictions'];

export const SUBSCRIPTION_TYPES: Record<string, SubscriptionTypeRule> = {
  'stream.online': rule('1'),
  'stream.offline': rule('1'),
  'channel.update': rule('2'),
  'channel.follow': rule(
    '2',
    ['moderator:read:followers'],
    ['broadcaster_user_id', 'moderator_user_id'],
    'moderator_user_id',
  ),
  'channel.subscribe': rule('1', subs),
  'channel.subscription.end': rule('1', subs),
  'channel.subscription.gift': rule('1', subs),
  'channel.subscription.message': rule('1', subs),
  'channel.cheer': rule('1', ['bits:read']),
  'channel.raid': {
    version: '1',
    condition: [],
    oneOf: ['from_broadcaster_user_id', 'to_broadcaster_user_id'],
    scopes: [],
  },
  'channel.ban': rule('1', ['channel:moderate']),
  'channel.hype_train.begin': rule('2', hype),
  'channel.hype_train.progress': rule('2', hype),
  'channel.hype_train.end': rule('2', hype),
  'channel.poll.begin': rule('1', polls),
  'channel.poll.progress': rule('1', polls),
  'channel.poll.end': rule('1', polls),
  'channel.prediction.begin': rule('1', predictions),
  'channel.prediction.progress': rule('1', predictions),
  'channel.prediction.lock': rule('1', predictions),
  'channel.prediction.end': rule('1', predictions),
  'channel.channel_points_custom_reward_redemption.add': rule('1', [
    'channel:read:redemptions',
    'channel:manage:redemptions',
  ]),
  'channel.chat.message': rule(
    '1',
    ['user:read:chat'],
    ['broadcaster_user_id', 'user_id'],
    'user_id',
  ),
  'channel.chat.notification': rule(
    '1',
    ['user:read:chat'],
    ['broadcaster_user_id', 'user_id'],
    'user_id',
  ),
  'user.authorization.grant': { version: '1', condition: ['client_id'], scopes: [] },
  'user.authorization.revoke': { version: '1', condition: ['client_id'], scopes: [] },
};

/** Versions Twitch has withdrawn: creating them answers 400 "cannot use deprecated ...". */
export const DEPRECATED_VERSIONS: Record<string, string[]> = {
  'channel.update': ['1'],
  'channel.follow': ['1'],
  'channel.hype_train.begin': ['1'],
  'channel.hype_train.progress': ['1'],
  'channel.hype_train.end': ['1'],
};

/** The user ids a condition names (for GET ?user_id= and for cost). */
export const conditionUserIds = (condition: Record<string, string>): string[] =>
  Object.entries(condition)
    .filter(([key]) => key.endsWith('user_id'))
    .map(([, value]) => value);
