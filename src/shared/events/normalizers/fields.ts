import { rfc3339ToIso } from '../../twitch/rfc3339.js';
import type { Actor } from '../event.js';

/** The event lacks something an Event needs; retrying cannot fix it. */
export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

/** The JSON type of a value, as an error message names it. */
export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** An RFC 3339 time (nanoseconds allowed) as ISO 8601 with milliseconds, or null. */
export const isoTime = (value: unknown): string | null => rfc3339ToIso(value);

/** Typed reads of an EventSub object; a wrong JSON type throws with the field's path. */
export interface Fields {
  readonly raw: Record<string, unknown>;
  /** A string, or null when absent, null or empty. Numbers pass: Twitch's examples have some. */
  text(key: string): string | null;
  requiredText(key: string): string;
  count(key: string): number | null;
  /** False when absent or null. */
  flag(key: string): boolean;
  /** The time the field names as ISO 8601, or null when absent or not a time. */
  time(key: string): string | null;
  object(key: string): Fields | null;
  list(key: string): Fields[];
  /** `{id, login, name}` from `<prefix>_id/_login/_name`; login and name fall back to the id. */
  actor(prefix: string): Actor | null;
}

export function fieldsOf(raw: Record<string, unknown>, path = 'event'): Fields {
  const pathOf = (key: string) => `${path}.${key}`;
  const wrong = (key: string, want: string) =>
    new InvalidEventError(`${pathOf(key)} must be ${want}, got ${jsonType(raw[key])}`);
  const absent = (key: string) => raw[key] === undefined || raw[key] === null;

  const text = (key: string): string | null => {
    const value = raw[key];
    if (absent(key) || value === '') return null;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    throw wrong(key, 'a string');
  };

  return {
    raw,
    text,
    requiredText(key) {
      const value = text(key);
      if (value === null) throw new InvalidEventError(`${pathOf(key)} is missing`);
      return value;
    },
    count(key) {
      const value = raw[key];
      if (absent(key)) return null;
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
        return Number(value);
      }
      throw wrong(key, 'a number');
    },
    flag(key) {
      const value = raw[key];
      if (absent(key)) return false;
      if (typeof value === 'boolean') return value;
      throw wrong(key, 'a boolean');
    },
    time: (key) => isoTime(raw[key]),
    object(key) {
      const value = raw[key];
      if (absent(key)) return null;
      if (isRecord(value)) return fieldsOf(value, pathOf(key));
      throw wrong(key, 'an object');
    },
    list(key) {
      const value = raw[key];
      if (absent(key)) return [];
      if (!Array.isArray(value)) throw wrong(key, 'an array');
      return value.map((item: unknown, i) => {
        const itemPath = `${pathOf(key)}[${i}]`;
        if (!isRecord(item)) {
          throw new InvalidEventError(`${itemPath} must be an object, got ${jsonType(item)}`);
        }
        return fieldsOf(item, itemPath);
      });
    },
    actor(prefix) {
      const id = text(`${prefix}_id`);
      if (id === null) return null;
      const login = text(`${prefix}_login`) ?? id;
      return { id, login, name: text(`${prefix}_name`) ?? login };
    },
  };
}
