import type { EventKind } from '../src/shared/events/event-kinds.js';

export interface Streamer {
  id: string;
  login: string;
  displayName: string;
  profileImageUrl: string;
}
export interface BackfillStatus {
  status: 'ready' | 'no_consent' | 'no_token';
  scope: string;
  lastRun: { at: string; status: string; from: string | null; added: number } | null;
}
export interface Preferences {
  hiddenKinds: EventKind[];
}
export interface Me extends Streamer {
  favorite: Streamer | null;
  preferences: Preferences;
  /** Set when the viewer is a streamer streamfeed knows: can it fetch the follows it missed? */
  backfill?: BackfillStatus | null;
}
/** `GET /api/streamers/:id/events/per-minute`: counts per minute, oldest first. */
export interface PerMinute {
  from: string;
  bucketSeconds: number;
  counts: Record<EventKind | 'other', number[]>;
}
export interface FeedEvent {
  id: string;
  type: string;
  broadcasterId: string;
  broadcasterLogin?: string;
  broadcasterName?: string;
  occurredAt: string;
  actor?: { id: string; login: string; name: string } | null;
  summary: string;
  /** Type-specific fields, among them what users typed (messages, titles, reward names). */
  data?: Record<string, unknown>;
  /** A follow streamfeed fetched from Twitch after it could not hear it live. */
  backfilled?: true;
}
export interface StreamerInfo extends Streamer {
  streamerMode: boolean;
  eventTypes: string[];
  /** This viewer may replay the streamer's events (the streamer in streamer mode, an operator). */
  canReplay?: boolean;
}
export interface ClientConfig {
  embeds: boolean;
  parent: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(path, { credentials: 'same-origin', ...init });
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
    throw new ApiError(
      response.status,
      body.error?.message ?? `Request failed (${response.status})`,
    );
  }
  return (response.status === 204 ? undefined : await response.json()) as T;
}

export const api = {
  me: () => call<Me>('/api/me'),
  config: () => call<ClientConfig>('/api/config'),
  setFavorite: (login: string) =>
    call<{ favorite: Streamer }>('/api/me/favorite', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login }),
    }),
  setPreferences: (preferences: Preferences) =>
    call<{ preferences: Preferences }>('/api/me/preferences', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(preferences),
    }),
  streamer: (broadcasterId: string) =>
    call<StreamerInfo>(`/api/streamers/${encodeURIComponent(broadcasterId)}`),
  /** The latest events; with `kinds`, only events of those kinds (and the always-shown types). */
  events: (broadcasterId: string, kinds?: readonly EventKind[]) =>
    call<{ events: FeedEvent[] }>(
      `/api/streamers/${encodeURIComponent(broadcasterId)}/events?limit=10${kinds ? `&kinds=${kinds.join(',')}` : ''}`,
    ),
  perMinute: (broadcasterId: string) =>
    call<PerMinute>(`/api/streamers/${encodeURIComponent(broadcasterId)}/events/per-minute`),
  /** Up to `limit` events that came before the event `before`, newest first. */
  eventsBefore: (broadcasterId: string, before: string, limit: number) =>
    call<{ events: FeedEvent[] }>(
      `/api/streamers/${encodeURIComponent(broadcasterId)}/events?limit=${limit}&before=${encodeURIComponent(before)}`,
    ),
  /** Up to `limit` events that came after the event `after`, oldest first; `more` if any are left. */
  eventsAfter: (broadcasterId: string, after: string, limit: number) =>
    call<{ events: FeedEvent[]; more: boolean }>(
      `/api/streamers/${encodeURIComponent(broadcasterId)}/events?limit=${limit}&after=${encodeURIComponent(after)}`,
    ),
  replay: (broadcasterId: string, eventId: string) =>
    call<{ replayId: string }>(
      `/api/streamers/${encodeURIComponent(broadcasterId)}/events/${encodeURIComponent(eventId)}/replay`,
      { method: 'POST' },
    ),
  realtimeToken: () => call<{ url: string; token: string }>('/api/realtime/token'),
  logout: () => call<void>('/auth/logout', { method: 'POST' }),
};
