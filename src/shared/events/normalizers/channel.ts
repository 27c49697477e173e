import type { Fields } from './fields.js';
import type { Normalizer } from './types.js';
import { aside, duration, plural, quote } from './wording.js';

const nameOf = (f: Fields, prefix: string, fallback = 'Someone') =>
  f.actor(prefix)?.name ?? fallback;

function timeout(f: Fields): string {
  const from = f.time('banned_at');
  const to = f.time('ends_at');
  const ms = from && to ? Date.parse(to) - Date.parse(from) : 0;
  return ms > 0 ? ` for ${duration(ms)}` : '';
}

export const channelNormalizers: Record<string, Normalizer> = {
  'channel.update': (f, b) => {
    const title = f.text('title');
    const category = f.text('category_name');
    if (title === null) {
      return {
        actor: null,
        summary: category
          ? `${b.name} changed the category to ${category}`
          : `${b.name} updated the channel`,
      };
    }
    return {
      actor: null,
      summary: `${b.name} changed the title to "${title}"${aside(category)}`,
    };
  },
  'channel.follow': (f) => ({
    actor: f.actor('user'),
    summary: `${nameOf(f, 'user')} followed`,
    timeField: 'followed_at',
  }),
  'channel.cheer': (f) => {
    const actor = f.flag('is_anonymous') ? null : f.actor('user');
    const bits = f.count('bits');
    return {
      actor,
      summary: `${actor?.name ?? 'An anonymous user'} cheered${bits === null ? '' : ` ${plural(bits, 'bit')}`}${quote(f.text('message'))}`,
    };
  },
  'channel.raid': (f, b) => {
    const raider = f.actor('from_broadcaster_user');
    const viewers = f.count('viewers');
    const withViewers = viewers === null ? '' : ` with ${plural(viewers, 'viewer')}`;
    // On the raider's own feed the news is where they went; on the target's, who came.
    const summary =
      raider !== null && raider.id === b.id
        ? `${b.name} raided ${nameOf(f, 'to_broadcaster_user', 'another channel')}${withViewers}`
        : `${raider?.name ?? 'Someone'} raided${withViewers}`;
    return { actor: raider, summary };
  },
  'channel.ban': (f) => {
    const moderator = f.actor('moderator_user');
    const target = nameOf(f, 'user');
    const permanent = f.flag('is_permanent') || f.text('ends_at') === null;
    const reason = aside(f.text('reason'));
    // channel.ban also carries timeouts; calling a 1-minute timeout a ban would mislead viewers.
    const summary = moderator
      ? `${moderator.name} ${permanent ? `banned ${target}` : `timed out ${target}${timeout(f)}`}${reason}`
      : `${target} was ${permanent ? 'banned' : `timed out${timeout(f)}`}${reason}`;
    return { actor: moderator, summary, timeField: 'banned_at' };
  },
  'channel.channel_points_custom_reward_redemption.add': (f) => ({
    actor: f.actor('user'),
    summary: `${nameOf(f, 'user')} redeemed ${f.object('reward')?.text('title') ?? 'a reward'}${quote(f.text('user_input'))}`,
    timeField: 'redeemed_at',
  }),
};
