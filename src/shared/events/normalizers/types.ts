import type { Actor } from '../event.js';
import type { Fields } from './fields.js';

/** What a type's normaliser decides; normalize.ts adds the fields every type shares. */
export interface Normalized {
  actor: Actor | null;
  /** One sentence; normalize.ts clips it to one line of at most 300 characters. */
  summary: string;
  /** The event field that says when this event happened; without it, the message timestamp. */
  timeField?: string;
}

/** Whose channel the event belongs to. */
export type Broadcaster = Actor;

export type Normalizer = (f: Fields, broadcaster: Broadcaster) => Normalized;

export type BroadcasterResolver = (
  f: Fields,
  condition: Record<string, unknown>,
  type: string,
) => Broadcaster;
