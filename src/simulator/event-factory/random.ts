import { createHash } from 'node:crypto';
import { twitchTimestamp } from '../../shared/twitch/eventsub-delivery.js';

/** mulberry32: a small seeded generator, so that a run can be replayed exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws from one `() => number` in [0, 1), so a seed decides everything that follows. */
export interface Rng {
  readonly random: () => number;
  /** An integer from min to max, both included. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
  weighted<T>(entries: ReadonlyArray<readonly [T, number]>): T;
  /** A numeric string of `length` digits without a leading zero, like a Twitch id. */
  digits(length: number): string;
  hex(length: number): string;
}

export function rngOf(random: () => number): Rng {
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  return {
    random,
    int,
    pick: (items) => {
      if (items.length === 0) throw new Error('cannot pick from an empty list');
      return items[Math.floor(random() * items.length)]!;
    },
    chance: (probability) => random() < probability,
    weighted: (entries) => {
      const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
      let left = random() * total;
      for (const [value, weight] of entries) {
        left -= weight;
        if (left < 0) return value;
      }
      return entries[entries.length - 1]![0];
    },
    digits: (length) =>
      String(int(1, 9)) + Array.from({ length: length - 1 }, () => int(0, 9)).join(''),
    hex: (length) => Array.from({ length }, () => int(0, 15).toString(16)).join(''),
  };
}

/**
 * A UUIDv7: `now` in the first 48 bits, the rest from `rng`. Deterministic for one seed and one
 * `now`, yet fresh across runs, so a replayed seed does not look like a resend of the last run.
 */
export function uuidAt(now: Date, rng: Rng): string {
  const ms = now.getTime().toString(16).padStart(12, '0').slice(-12);
  const variant = (rng.int(0, 3) | 8).toString(16);
  const tail = `${variant}${rng.hex(3)}${rng.hex(12)}`;
  return `${ms.slice(0, 8)}-${ms.slice(8)}-7${rng.hex(3)}-${tail.slice(0, 4)}-${tail.slice(4)}`;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KSUID_EPOCH_S = 1_400_000_000;

/** A 27-character KSUID (4 bytes of time, 16 random), the shape of Twitch's hype train ids. */
export function ksuidAt(now: Date, rng: Rng): string {
  const seconds = BigInt(Math.max(0, Math.floor(now.getTime() / 1000) - KSUID_EPOCH_S));
  let value = (seconds << 128n) | BigInt(`0x${rng.hex(32)}`);
  let text = '';
  while (value > 0n) {
    text = BASE62[Number(value % 62n)]! + text;
    value /= 62n;
  }
  return text.padStart(27, '0');
}

/** A UUID-shaped id derived from `parts`: the same reward on one channel keeps its id. */
export function stableUuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\n')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** RFC 3339 with nanoseconds, `offsetMs` from `now`, as Twitch writes event times. */
export function timeAt(now: Date, rng: Rng, offsetMs = 0): string {
  const millis = twitchTimestamp(new Date(now.getTime() + offsetMs));
  // twitchTimestamp pads milliseconds with zeros; real times use all nine digits.
  return millis.replace(/0{6}Z$/, `${String(rng.int(0, 999_999)).padStart(6, '0')}Z`);
}
