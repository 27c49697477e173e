import type { Rng } from './random.js';
import type { FakeUser } from './types.js';

/** Global Twitch emotes by name, with their emote ids. */
export const EMOTES: Record<string, string> = {
  Kappa: '25',
  PogChamp: '305954156',
  LUL: '425618',
  Kreygasm: '41',
  HeyGuys: '30259',
  BibleThump: '86',
  SeemsGood: '64138',
  NotLikeThis: '58765',
  '<3': '555555584',
};

const COPYPASTA =
  'Hey chat, long time lurker here. I just want to say this stream got me through a really ' +
  'rough semester, the chill vibes and the community are amazing and I look forward to every ' +
  'single stream. Thank you for always reading chat, for the bad puns, for the 3 a.m. ranked ' +
  'grinds and for never giving up on that one boss even after 200 deaths. You are all the best ' +
  'and I hope we hit the subathon goal this weekend. Also the cat cam is the best part of the ' +
  'stream, no offense. Much love from Lisbon <3 PogChamp';

/** Chat as it looks: emotes, unicode, HTML-ish text, the odd wall of text (~500 characters). */
export const CHAT_LINES: readonly string[] = [
  'Kappa',
  'PogChamp PogChamp PogChamp',
  'LUL that was so bad',
  'gg wp',
  'first time chatter, love the vibe HeyGuys',
  'こんにちは！東京から見てます 🇯🇵',
  '안녕하세요 여러분 ㅋㅋㅋ',
  'Ünïcødé ✨ still works, right?',
  'that jump was insane Kreygasm',
  'can you play that song again? 🎶',
  '<3 <3 <3',
  'fish & chips > pizza, fight me',
  'is this <b>bold</b>? Kappa',
  'مرحبا بالجميع',
  'NotLikeThis NotLikeThis',
  'hydrate check 💧',
  'lol',
  'W',
  COPYPASTA,
];

export const SUB_MESSAGES: readonly string[] = [
  'Love the stream! SeemsGood',
  'another month, another banger Kappa',
  '1 year already?! PogChamp',
  'Ünïcørn gang 🦄',
  'ありがとう！',
  COPYPASTA,
];

export const ANNOUNCEMENTS: readonly string[] = [
  'Subathon goal: 500 subs = 24h stream! PogChamp',
  'Giveaway at 1000 followers, !giveaway for the rules',
  'Please keep chat in English or 日本語 <3',
];

const CHEER_PREFIXES = ['Cheer', 'Cheer', 'Cheer', 'BibleThump', 'Kappa', 'Party', 'cheerwhal'];
const CHEERMOTE = /^([A-Za-z]+?)(\d+)$/;
const CHEER_TIERS = [10000, 5000, 1000, 100, 1];

/** A cheer message whose cheermotes (`Cheer100`, ...) add up to `bits`. */
export function cheerText(bits: number, rng: Rng): string {
  const split = bits >= 2 && rng.chance(0.3) ? Math.floor(bits / 2) : 0;
  const motes = [bits - split, split].filter((n) => n > 0).map((n) => rng.pick(CHEER_PREFIXES) + n);
  const words = rng.chance(0.8) ? rng.pick(CHAT_LINES) : '';
  const parts = rng.chance(0.7) ? [...motes, words] : [words, ...motes];
  return parts.filter(Boolean).join(' ');
}

const fragment = (type: string, text: string, detail: Record<string, unknown> = {}) => ({
  type,
  text,
  cheermote: null,
  emote: null,
  mention: null,
  ...detail,
});

/** channel.chat.* message fragments: text, emotes, cheermotes and an optional leading @mention. */
export function fragmentsOf(
  text: string,
  options: { cheer?: boolean; mention?: FakeUser } = {},
): Array<Record<string, unknown>> {
  const fragments: Array<Record<string, unknown>> = [];
  let plain = '';
  const flush = () => {
    if (plain) fragments.push(fragment('text', plain));
    plain = '';
  };
  if (options.mention) {
    const { id, login, displayName } = options.mention;
    const mention = { user_id: id, user_login: login, user_name: displayName };
    fragments.push(fragment('mention', `@${login}`, { mention }));
    plain = ' ';
  }
  for (const token of text.split(/(\s+)/)) {
    const emoteId = Object.hasOwn(EMOTES, token) ? EMOTES[token] : undefined;
    const cheer = options.cheer ? CHEERMOTE.exec(token) : null;
    if (emoteId) {
      flush();
      const emote = { id: emoteId, emote_set_id: '0', owner_id: '0', format: ['static'] };
      fragments.push(fragment('emote', token, { emote }));
    } else if (cheer) {
      flush();
      const bits = Number(cheer[2]);
      const tier = CHEER_TIERS.find((t) => bits >= t) ?? 1;
      fragments.push(
        fragment('cheermote', token, {
          cheermote: { prefix: cheer[1]!.toLowerCase(), bits, tier },
        }),
      );
    } else {
      plain += token;
    }
  }
  flush();
  return fragments;
}

/** Resub message emotes: code point positions, end included, as Twitch counts them. */
export function emotePositions(text: string): Array<{ begin: number; end: number; id: string }> {
  const positions: Array<{ begin: number; end: number; id: string }> = [];
  let at = 0;
  for (const token of text.split(/(\s+)/)) {
    const length = [...token].length;
    const id = Object.hasOwn(EMOTES, token) ? EMOTES[token] : undefined;
    if (id) positions.push({ begin: at, end: at + length - 1, id });
    at += length;
  }
  return positions;
}

const COLORS = ['#FF0000', '#0000FF', '#008000', '#B22222', '#FF7F50', '#9ACD32', '#FF4500'];
const MORE_COLORS = ['#2E8B57', '#DAA520', '#D2691E', '#5F9EA0', '#1E90FF', '#FF69B4', '#8A2BE2'];

/** A chat name colour; "" for users who never picked one. */
export const chatColor = (rng: Rng) =>
  rng.chance(0.1) ? '' : rng.pick([...COLORS, ...MORE_COLORS, '#00FF7F']);

/** Up to three chat badges in Twitch's order (role, subscriber, the rest). */
export function chatBadges(rng: Rng): Array<{ set_id: string; id: string; info: string }> {
  const badges: Array<{ set_id: string; id: string; info: string }> = [];
  const role = rng.weighted([
    ['', 88],
    ['moderator', 6],
    ['vip', 6],
  ] as const);
  if (role) badges.push({ set_id: role, id: '1', info: '' });
  if (rng.chance(0.4)) {
    const months = rng.int(1, 60);
    const id = String([0, 3, 6, 12, 24, 36].findLast((m) => m <= months) ?? 0);
    badges.push({ set_id: 'subscriber', id, info: String(months) });
  }
  if (badges.length < 3 && rng.chance(0.15)) {
    badges.push({ set_id: 'sub-gifter', id: rng.pick(['1', '5', '10', '25']), info: '' });
  }
  if (badges.length < 3 && rng.chance(0.1)) badges.push({ set_id: 'premium', id: '1', info: '' });
  return badges;
}
