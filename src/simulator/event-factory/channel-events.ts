import { CHAT_LINES } from './messages.js';
import { stableUuid } from './random.js';
import {
  byBroadcaster,
  byField,
  channelOf,
  userFields,
  type Ctx,
  type EventBuilder,
} from './types.js';

const CATEGORIES: ReadonlyArray<readonly [string, string]> = [
  ['509658', 'Just Chatting'],
  ['27471', 'Minecraft'],
  ['33214', 'Fortnite'],
  ['32982', 'Grand Theft Auto V'],
  ['21779', 'League of Legends'],
  ['516575', 'VALORANT'],
  ['509660', 'Art'],
  ['26936', 'Music'],
  ['1469308723', 'Software and Game Development'],
];
const TITLES = [
  'Chill Sunday stream ☕ !socials',
  'RANKED GRIND until Diamond 💎',
  'Day 47 of learning Japanese | 日本語の勉強',
  '첫 방송! First stream ever',
  'Speedrun attempts — any% WR pace?',
  'cozy art stream & chat <3',
  '!drops enabled | SUBATHON 🎉 | !sub',
];
const LANGUAGES: ReadonlyArray<readonly [string, number]> = [
  ['en', 60],
  ['de', 8],
  ['ja', 8],
  ['ko', 6],
  ['es', 8],
  ['fr', 5],
  ['pt', 5],
];
const LABELS = ['MatureGame', 'ProfanityVulgarity', 'Gambling', 'ViolentGraphic'];
const BAN_REASONS = ['', '', 'spam', 'Offensive language', 'self-promo', 'read the rules'];
const TIMEOUTS_S = [1, 60, 600, 3600, 86_400, 604_800];
const REWARDS = [
  { title: 'Hydrate!', cost: 100, prompt: 'Make me drink some water', input: false },
  { title: 'Song request 🎶', cost: 500, prompt: 'Paste a link to the song', input: true },
  { title: 'Say something in Japanese', cost: 1000, prompt: '', input: false },
  { title: 'Choose the next game', cost: 5000, prompt: 'Which game next?', input: true },
  { title: 'Posture check', cost: 250, prompt: '', input: false },
  { title: 'Ask me anything', cost: 300, prompt: 'I answer it on stream', input: true },
];
/** A client id shaped like Twitch's (30 of [a-z0-9]); override `client_id` to use your own. */
export const SIMULATED_CLIENT_ID = 'hof5gwx0su6owfnys0nyan9c87zr6t';

const raider = (c: Ctx) => c.other ?? c.user;

export const channelBuilders: Record<string, EventBuilder> = {
  'stream.online': {
    version: '1',
    build: (c) => ({
      id: c.rng.digits(11),
      ...channelOf(c),
      type: c.rng.weighted([
        ['live', 95],
        ['playlist', 1],
        ['watch_party', 1],
        ['premiere', 1],
        ['rerun', 2],
      ] as const),
      started_at: c.at(-c.rng.int(1000, 30_000)),
    }),
  },
  'stream.offline': { version: '1', build: (c) => channelOf(c) },
  'channel.update': {
    version: '2',
    build: (c) => {
      const [categoryId, categoryName] = c.rng.pick(CATEGORIES);
      return {
        ...channelOf(c),
        title: c.rng.pick(TITLES),
        language: c.rng.weighted(LANGUAGES),
        category_id: categoryId,
        category_name: categoryName,
        content_classification_labels: c.rng.chance(0.8) ? [] : [c.rng.pick(LABELS)],
      };
    },
  },
  'channel.follow': {
    version: '2',
    // The broadcaster authorised streamfeed, so they are their own moderator.
    condition: (event) => ({
      ...byBroadcaster(event),
      moderator_user_id: byBroadcaster(event).broadcaster_user_id,
    }),
    build: (c) => ({ ...userFields('user', c.user), ...channelOf(c), followed_at: c.at() }),
  },
  'channel.raid': {
    version: '1',
    condition: byField('to_broadcaster_user_id'),
    build: (c) => ({
      ...userFields('from_broadcaster_user', raider(c)),
      ...userFields('to_broadcaster_user', c.broadcaster),
      viewers: Math.max(1, Math.round(Math.exp(c.rng.random() * Math.log(20_000)))),
    }),
  },
  'channel.ban': {
    version: '1',
    build: (c) => {
      const permanent = c.rng.chance(0.35);
      return {
        ...userFields('user', c.user),
        ...channelOf(c),
        ...userFields(
          'moderator_user',
          c.rng.chance(0.5) ? c.broadcaster : (c.other ?? c.broadcaster),
        ),
        reason: c.rng.pick(BAN_REASONS),
        banned_at: c.at(),
        ends_at: permanent ? null : c.at(c.rng.pick(TIMEOUTS_S) * 1000),
        is_permanent: permanent,
      };
    },
  },
  'channel.channel_points_custom_reward_redemption.add': {
    version: '1',
    build: (c) => {
      const reward = c.rng.pick(REWARDS);
      return {
        id: c.uuid(),
        ...channelOf(c),
        ...userFields('user', c.user),
        user_input: reward.input ? c.rng.pick(CHAT_LINES) : '',
        status: c.rng.chance(0.8) ? 'unfulfilled' : 'fulfilled',
        reward: {
          id: stableUuid(c.broadcaster.id, reward.title),
          title: reward.title,
          cost: reward.cost,
          prompt: reward.prompt,
        },
        redeemed_at: c.at(-c.rng.int(0, 2000)),
      };
    },
  },
};

/** The user who connected or disconnected streamfeed is the broadcaster of the context. */
const authorization = (revoke: boolean): EventBuilder => ({
  version: '1',
  condition: byField('client_id'),
  build: (c) => {
    // On revoke, Twitch nulls login and name when the account no longer exists.
    const gone = revoke && c.rng.chance(0.1);
    return {
      client_id: SIMULATED_CLIENT_ID,
      user_id: c.broadcaster.id,
      user_login: gone ? null : c.broadcaster.login,
      user_name: gone ? null : c.broadcaster.displayName,
    };
  },
});

export const authorizationBuilders: Record<string, EventBuilder> = {
  'user.authorization.grant': authorization(false),
  'user.authorization.revoke': authorization(true),
};
