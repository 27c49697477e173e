import type { Normalizer } from './types.js';

export const chatNormalizers: Record<string, Normalizer> = {
  'channel.chat.message': (f) => {
    const chatter = f.actor('chatter_user');
    const text = f.object('message')?.text('text') ?? null;
    const who = chatter?.name ?? 'Someone';
    return { actor: chatter, summary: text?.trim() ? `${who}: ${text}` : `${who} sent a message` };
  },
  'channel.chat.notification': (f) => {
    const chatter = f.flag('chatter_is_anonymous') ? null : f.actor('chatter_user');
    // Twitch writes the sentence chat shows ("X subscribed at Tier 1. ..."); reuse it verbatim.
    const system = f.text('system_message');
    const notice = (f.text('notice_type') ?? 'notification').replace(/_/g, ' ');
    return {
      actor: chatter,
      summary: system ?? `${chatter?.name ?? 'An anonymous user'}: ${notice}`,
    };
  },
};
