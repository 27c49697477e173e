import type { Fields } from './fields.js';
import type { Broadcaster, BroadcasterResolver, Normalizer } from './types.js';

// The "channel" of an authorization event is the user who (dis)connected streamfeed; Twitch
// nulls their login and name when the account is gone, so those fall back to the id.
const user = (f: Fields): Broadcaster => {
  const id = f.requiredText('user_id');
  return f.actor('user') ?? { id, login: id, name: id };
};

export const authorizationBroadcasters: Record<string, BroadcasterResolver> = {
  'user.authorization.grant': user,
  'user.authorization.revoke': user,
};

export const authorizationNormalizers: Record<string, Normalizer> = {
  'user.authorization.grant': (_f, b) => ({ actor: b, summary: `${b.name} connected streamfeed` }),
  'user.authorization.revoke': (_f, b) => ({
    actor: b,
    summary: `${b.name} disconnected streamfeed`,
  }),
};
