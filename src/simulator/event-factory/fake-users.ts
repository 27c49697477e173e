import { rngOf, type Rng } from './random.js';
import type { FakeUser } from './types.js';

const ADJECTIVES = (
  'pixel luna retro nova cozy sleepy salty turbo mighty neon frosty chill lucky shadow cosmic ' +
  'spicy tiny wild unicorn crimson'
).split(' ');
const NOUNS = (
  'pirate raccoon wizard panda gamer otter ninja dragon muffin queen knight fox bard goose ' +
  'potato comet wolf toast sniper cat'
).split(' ');
/** Localised display names with the ASCII login their owner picked. */
const LOCALISED: ReadonlyArray<readonly [string, string]> = [
  ['ゆめかわ', 'yumekawa'],
  ['さくらんぼ', 'sakuranbo'],
  ['ねこまんま', 'nekomanma'],
  ['たぬき先生', 'tanuki_sensei'],
  ['하늘별', 'haneulbyeol'],
  ['민지', 'minji'],
  ['김치맨', 'kimchiman'],
  ['달빛고양이', 'dalbit_cat'],
  ['小龙', 'xiaolong'],
  ['月亮', 'yueliang'],
];
const EMOJI = [...'🎮✨🐸🔥🌙🍜💜🦊👑'];
const ACCENTS: Record<string, readonly string[]> = {
  a: ['á', 'ä', 'å'],
  e: ['é', 'ë'],
  i: ['ï', 'í'],
  o: ['ø', 'ö', 'ó'],
  u: ['ü', 'ú'],
  n: ['ñ'],
  c: ['ç'],
};

type Style = 'plain' | 'accented' | 'localised' | 'emoji' | 'xx';
const STYLES: ReadonlyArray<readonly [Style, number]> = [
  ['plain', 55],
  ['accented', 12],
  ['localised', 15],
  ['emoji', 10],
  ['xx', 8],
];

const capitalise = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
/** The login with its words capitalised: Twitch display names only change the case. */
const titleCase = (login: string) => login.split('_').map(capitalise).join('_');

function fancy(text: string, rng: Rng): string {
  return [...text]
    .map((ch) => {
      const options = ACCENTS[ch.toLowerCase()];
      if (!options || !rng.chance(0.6)) return ch;
      const accented = rng.pick(options);
      return ch === ch.toLowerCase() ? accented : accented.toUpperCase();
    })
    .join('');
}

function candidate(rng: Rng): { login: string; displayName: string } {
  const words = () => {
    const joiner = rng.chance(0.6) ? '_' : '';
    return `${rng.pick(ADJECTIVES)}${joiner}${rng.pick(NOUNS)}`;
  };
  const number = () => (rng.chance(0.5) ? String(rng.int(1, 9999)) : '');
  switch (rng.weighted(STYLES)) {
    case 'plain': {
      const login = `${words()}${number()}`;
      return { login, displayName: rng.chance(0.6) ? titleCase(login) : login };
    }
    case 'accented': {
      const login = `${rng.pick(ADJECTIVES)}_${rng.pick(NOUNS)}`;
      return { login, displayName: fancy(titleCase(login), rng) };
    }
    case 'localised': {
      const [displayName, base] = rng.pick(LOCALISED);
      return { login: `${base}${rng.chance(0.5) ? `_${rng.int(1, 99)}` : ''}`, displayName };
    }
    case 'emoji': {
      const login = `${words()}${number()}`;
      const emoji = rng.pick(EMOJI);
      const name = titleCase(login);
      return { login, displayName: rng.chance(0.5) ? `${emoji} ${name}` : `${name}${emoji}` };
    }
    case 'xx': {
      const noun = rng.pick(NOUNS);
      return { login: `xx_${noun}_xx`, displayName: `xX_${capitalise(noun)}_Xx` };
    }
  }
}

/** Makes `login` unique and 4-25 characters of [a-z0-9_], keeping it readable. */
function uniqueLogin(login: string, taken: Set<string>, rng: Rng): string {
  let base = login.toLowerCase().replace(/[^a-z0-9_]/g, '');
  if (base.length < 4) base = `${base}_tv`.padEnd(4, '0');
  let result = base.slice(0, 25);
  while (taken.has(result)) {
    const suffix = String(rng.int(1, 9999));
    result = `${base.slice(0, 25 - suffix.length)}${suffix}`;
  }
  taken.add(result);
  return result;
}

/** A display name that only re-cases the login follows a suffix added for uniqueness. */
function displayFor(displayName: string, login: string, unique: string): string {
  if (unique === login || displayName.toLowerCase() !== login) return displayName;
  let same = 0;
  while (same < login.length && login[same] === unique[same]) same++;
  return displayName.slice(0, same) + unique.slice(same);
}

/**
 * `count` users with unique numeric ids and unique logins (4-25 of [a-z0-9_]); display names
 * mix plain ASCII, accented letters, Japanese/Korean/Chinese names and emoji.
 */
export function fakeUsers(count: number, random: () => number = Math.random): FakeUser[] {
  const rng = rngOf(random);
  const logins = new Set<string>();
  const ids = new Set<string>();
  return Array.from({ length: count }, () => {
    const { login, displayName } = candidate(rng);
    const unique = uniqueLogin(login, logins, rng);
    let id = rng.digits(rng.int(8, 10));
    while (ids.has(id)) id = rng.digits(10);
    ids.add(id);
    return { id, login: unique, displayName: displayFor(displayName, login, unique) };
  });
}
