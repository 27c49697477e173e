import { fakeUsers } from './fake-users.js';
import { ANNOUNCEMENTS, chatBadges, chatColor, fragmentsOf, SUB_MESSAGES } from './messages.js';
import { channelOf, TIERS, tierNumber, userFields, type Ctx, type FakeUser } from './types.js';

/** Every notice object of the docs example, in order: all null but the one of notice_type. */
const NOTICES = [
  'sub',
  'resub',
  'sub_gift',
  'community_sub_gift',
  'gift_paid_upgrade',
  'prime_paid_upgrade',
  'pay_it_forward',
  'raid',
  'unraid',
  'announcement',
  'bits_badge_tier',
  'charity_donation',
  ...['sub', 'resub', 'sub_gift', 'community_sub_gift', 'gift_paid_upgrade'].map(
    (n) => `shared_chat_${n}`,
  ),
  ...['prime_paid_upgrade', 'pay_it_forward', 'raid', 'announcement'].map(
    (n) => `shared_chat_${n}`,
  ),
];
type Notice =
  | 'sub'
  | 'resub'
  | 'sub_gift'
  | 'community_sub_gift'
  | 'gift_paid_upgrade'
  | 'prime_paid_upgrade'
  | 'pay_it_forward'
  | 'raid'
  | 'announcement'
  | 'bits_badge_tier';
const NOTICE_MIX: ReadonlyArray<readonly [Notice, number]> = [
  ['sub', 20],
  ['resub', 30],
  ['sub_gift', 15],
  ['community_sub_gift', 8],
  ['gift_paid_upgrade', 3],
  ['prime_paid_upgrade', 2],
  ['pay_it_forward', 2],
  ['raid', 5],
  ['announcement', 10],
  ['bits_badge_tier', 5],
];
/** The account Twitch shows for anonymous gifts. */
const ANONYMOUS_GIFTER: FakeUser = {
  id: '274598607',
  login: 'ananonymousgifter',
  displayName: 'AnAnonymousGifter',
};

interface Notified {
  detail: Record<string, unknown>;
  system: string;
  text?: string;
  anonymous?: boolean;
}

function notice(c: Ctx, type: Notice, name: string): Notified {
  const tier = c.rng.weighted(TIERS);
  const other = () => c.other ?? fakeUsers(1, c.rng.random)[0]!;
  const gifter = (anonymous: boolean, g: FakeUser) => ({
    gifter_is_anonymous: anonymous,
    gifter_user_id: anonymous ? null : g.id,
    gifter_user_name: anonymous ? null : g.displayName,
    gifter_user_login: anonymous ? null : g.login,
  });
  switch (type) {
    case 'sub': {
      const prime = tier === '1000' && c.rng.chance(0.3);
      const how = prime ? 'with Prime' : `at Tier ${tierNumber(tier)}`;
      const detail = { sub_tier: tier, is_prime: prime, duration_months: c.rng.pick([1, 1, 3, 6]) };
      return { detail, system: `${name} subscribed ${how}.` };
    }
    case 'resub': {
      const months = c.rng.int(2, 60);
      const streak = c.rng.chance(0.4) ? null : c.rng.int(1, months);
      const from = c.rng.chance(0.1) ? other() : null;
      const detail = {
        cumulative_months: months,
        duration_months: 0,
        streak_months: streak,
        sub_tier: tier,
        is_prime: false,
        is_gift: from !== null,
        gifter_is_anonymous: from ? false : null,
        gifter_user_id: from?.id ?? null,
        gifter_user_name: from?.displayName ?? null,
        gifter_user_login: from?.login ?? null,
      };
      const onStreak = streak ? `, currently on a ${streak} month streak` : '';
      return {
        detail,
        system: `${name} subscribed at Tier ${tierNumber(tier)}. They've subscribed for ${months} months${onStreak}!`,
        text: c.rng.chance(0.6) ? c.rng.pick(SUB_MESSAGES) : '',
      };
    }
    case 'sub_gift':
    case 'community_sub_gift': {
      const anonymous = c.rng.chance(0.15);
      const who = anonymous ? 'An anonymous user' : name;
      const total = type === 'sub_gift' ? 1 : c.rng.pick([5, 5, 10, 20, 50]);
      const cumulative = anonymous ? null : total + c.rng.int(0, 300);
      const inChannel = cumulative === null ? '' : ` They've gifted ${cumulative} in the channel!`;
      if (type === 'community_sub_gift') {
        const detail = {
          id: c.rng.digits(19),
          total,
          sub_tier: tier,
          cumulative_total: cumulative,
        };
        const system = `${who} is gifting ${total} Tier ${tierNumber(tier)} Subs to ${c.broadcaster.displayName}'s community!${inChannel}`;
        return { detail, system, anonymous };
      }
      const to = other();
      const detail = {
        duration_months: 1,
        cumulative_total: cumulative,
        ...userFields('recipient_user', to),
        sub_tier: tier,
        community_gift_id: null,
      };
      const system = `${who} gifted a Tier ${tierNumber(tier)} sub to ${to.displayName}!${inChannel}`;
      return { detail, system, anonymous };
    }
    case 'gift_paid_upgrade':
    case 'pay_it_forward': {
      const anonymous = c.rng.chance(0.2);
      const original = other();
      const from = anonymous ? 'an anonymous user' : original.displayName;
      const detail = gifter(anonymous, original);
      const system =
        type === 'gift_paid_upgrade'
          ? `${name} is continuing the Gift Sub they got from ${from}!`
          : `${name} is paying forward the Gift they got from ${from} to the community!`;
      return { detail, system };
    }
    case 'prime_paid_upgrade':
      return {
        detail: { sub_tier: '1000' },
        system: `${name} converted from a Prime sub to a Tier 1 sub!`,
      };
    case 'raid': {
      const viewers = c.rng.int(2, 3000);
      const detail = {
        ...userFields('user', c.user),
        viewer_count: viewers,
        profile_image_url: `https://static-cdn.jtvnw.net/jtv_user_pictures/${c.uuid()}-profile_image-70x70.png`,
      };
      return { detail, system: `${viewers} raiders from ${name} have joined!` };
    }
    case 'announcement': {
      const color = c.rng.pick(['primary', 'blue', 'green', 'orange', 'purple']);
      return { detail: { color }, system: '', text: c.rng.pick(ANNOUNCEMENTS) };
    }
    case 'bits_badge_tier': {
      const badge = c.rng.pick([1000, 5000, 10_000, 25_000, 100_000]);
      return {
        detail: { tier: badge },
        system: `${name} just earned a new ${badge / 1000}K Bits badge!`,
      };
    }
  }
}

/** A channel.chat.notification event without its source_* fields. */
export function chatNotification(c: Ctx): Record<string, unknown> {
  const type = c.rng.weighted(NOTICE_MIX);
  const made = notice(c, type, c.user.displayName);
  const chatter = made.anonymous ? ANONYMOUS_GIFTER : c.user;
  const text = made.text ?? '';
  return {
    ...channelOf(c),
    ...userFields('chatter_user', chatter),
    chatter_is_anonymous: made.anonymous ?? false,
    color: chatColor(c.rng),
    badges: chatBadges(c.rng),
    system_message: made.system,
    message_id: c.uuid(),
    message: { text, fragments: text ? fragmentsOf(text) : [] },
    notice_type: type,
    ...Object.fromEntries(NOTICES.map((key) => [key, key === type ? made.detail : null])),
  };
}
