import { fakeUsers } from './fake-users.js';
import { chatBadges, chatColor, CHAT_LINES, cheerText, fragmentsOf } from './messages.js';
import {
  byBroadcasterAsUser,
  channelOf,
  userFields,
  type Ctx,
  type EventBuilder,
} from './types.js';
import { chatNotification } from './chat-notification.js';

const SOURCE_FIELDS = {
  source_broadcaster_user_id: null,
  source_broadcaster_user_login: null,
  source_broadcaster_user_name: null,
  source_message_id: null,
  source_badges: null,
};

function reply(c: Ctx) {
  const parent = c.other ?? fakeUsers(1, c.rng.random)[0]!;
  const fields = (prefix: string) => ({
    [`${prefix}_user_id`]: parent.id,
    [`${prefix}_user_name`]: parent.displayName,
    [`${prefix}_user_login`]: parent.login,
  });
  const parentId = c.uuid();
  return {
    parent,
    reply: {
      parent_message_id: parentId,
      parent_message_body: c.rng.pick(CHAT_LINES),
      ...fields('parent'),
      thread_message_id: parentId,
      ...fields('thread'),
    },
  };
}

function chatMessage(c: Ctx): Record<string, unknown> {
  const kind = c.rng.weighted([
    ['plain', 85],
    ['reply', 6],
    ['cheer', 5],
    ['highlighted', 2],
    ['intro', 1],
    ['reward', 1],
  ] as const);
  const bits = kind === 'cheer' ? c.rng.pick([1, 100, 100, 500, 1000, 5000]) : 0;
  const text = bits ? cheerText(bits, c.rng) : c.rng.pick(CHAT_LINES);
  const replying = kind === 'reply' ? reply(c) : null;
  const fragments = fragmentsOf(text, {
    cheer: bits > 0,
    ...(replying ? { mention: replying.parent } : {}),
  });
  return {
    ...channelOf(c),
    ...userFields('chatter_user', c.user),
    message_id: c.uuid(),
    message: { text: fragments.map((f) => String(f.text)).join(''), fragments },
    color: chatColor(c.rng),
    badges: chatBadges(c.rng),
    message_type:
      kind === 'highlighted'
        ? 'channel_points_highlighted'
        : kind === 'intro'
          ? 'user_intro'
          : 'text',
    cheer: bits ? { bits } : null,
    reply: replying?.reply ?? null,
    channel_points_custom_reward_id: kind === 'reward' ? c.uuid() : null,
    ...SOURCE_FIELDS,
  };
}

export const chatBuilders: Record<string, EventBuilder> = {
  'channel.chat.message': { version: '1', condition: byBroadcasterAsUser, build: chatMessage },
  'channel.chat.notification': {
    version: '1',
    condition: byBroadcasterAsUser,
    build: (c) => ({ ...chatNotification(c), ...SOURCE_FIELDS }),
  },
};
