import { api, ApiError, type FeedEvent } from './api.js';

/** The most missed events fetched; the page shows no more than this anyway. */
const MAX_MISSED = 100;

/**
 * The events that came after `since`, oldest first, from the event history; null when more were
 * missed than the page shows, or when `since` is unknown there: the newest events are then all
 * the page can show.
 */
export async function fetchMissedEvents(
  broadcasterId: string,
  since: string,
): Promise<FeedEvent[] | null> {
  try {
    const { events, more } = await api.eventsAfter(broadcasterId, since, MAX_MISSED);
    return more ? null : events;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}
