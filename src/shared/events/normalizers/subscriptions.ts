import type { Fields } from './fields.js';
import type { Normalizer } from './types.js';
import { plural, quote, tierName } from './wording.js';

const nameOf = (f: Fields) => f.actor('user')?.name ?? 'Someone';

/** " at Tier 1", " with Prime", or nothing when the tier is unknown. */
function atTier(f: Fields): string {
  const tier = tierName(f.text('tier'));
  if (tier === null) return '';
  return tier === 'Prime' ? ' with Prime' : ` at ${tier}`;
}

const tierPrefix = (f: Fields): string => {
  const tier = tierName(f.text('tier'));
  return tier ? `${tier} ` : '';
};

export const subscriptionNormalizers: Record<string, Normalizer> = {
  'channel.subscribe': (f) => ({
    actor: f.actor('user'),
    summary: f.flag('is_gift')
      ? `${nameOf(f)} received a gifted ${tierPrefix(f)}sub`
      : `${nameOf(f)} subscribed${atTier(f)}`,
  }),
  'channel.subscription.gift': (f) => {
    const actor = f.flag('is_anonymous') ? null : f.actor('user');
    const total = f.count('total');
    const subs =
      total === null || total === 1
        ? `a ${tierPrefix(f)}sub`
        : plural(total, `${tierPrefix(f)}sub`);
    return { actor, summary: `${actor?.name ?? 'An anonymous user'} gifted ${subs}` };
  },
  'channel.subscription.message': (f) => {
    const months = f.count('cumulative_months');
    const text = f.object('message')?.text('text') ?? null;
    return {
      actor: f.actor('user'),
      summary: `${nameOf(f)} resubscribed${months === null ? '' : ` for ${plural(months, 'month')}`}${quote(text)}`,
    };
  },
  'channel.subscription.end': (f) => ({
    actor: f.actor('user'),
    summary: `${nameOf(f)}'s ${f.flag('is_gift') ? 'gifted ' : ''}${tierPrefix(f)}subscription ended`,
  }),
};
