import type { Actor } from '../event.js';
import { InvalidEventError, type Fields } from './fields.js';
import type { Broadcaster, Normalized } from './types.js';

const OWN = 'broadcaster_user_id';

/** Every `<prefix>_broadcaster_user_*` side the event names (from_, to_, source_ ...). */
function sides(f: Fields): Actor[] {
  return Object.keys(f.raw)
    .filter((key) => key.endsWith(OWN) && key !== OWN)
    .map((key) => f.actor(key.slice(0, -'_id'.length)))
    .filter((side): side is Actor => side !== null);
}

function conditionIds(condition: Record<string, unknown>): string[] {
  return Object.keys(condition)
    .filter((key) => key.endsWith(OWN))
    .sort((a, b) => Number(b === OWN) - Number(a === OWN))
    .map((key) => condition[key])
    .map((v) => (typeof v === 'number' ? String(v) : v))
    .filter((v): v is string => typeof v === 'string' && v !== '');
}

/**
 * broadcaster_user_* of the event; else the channel the subscription's condition names (for
 * channel.raid the to_ or from_ side it was made for); else any *_broadcaster_user_* side.
 */
export function genericBroadcaster(
  f: Fields,
  condition: Record<string, unknown>,
  type: string,
): Broadcaster {
  const own = f.actor('broadcaster_user');
  if (own) return own;
  const [id] = conditionIds(condition);
  if (id !== undefined) {
    return sides(f).find((side) => side.id === id) ?? { id, login: id, name: id };
  }
  const [side] = sides(f);
  if (side) return side;
  throw new InvalidEventError(
    `event.${OWN} is missing and the ${type} subscription condition names no broadcaster`,
  );
}

/** A type Twitch adds later is kept, not dropped: a plain summary and all its fields. */
export const genericNormalizer =
  (type: string) =>
  (f: Fields): Normalized => {
    const actor = f.actor('user');
    return { actor, summary: `New ${type} event${actor ? ` from ${actor.name}` : ''}` };
  };
