import type { RequestHandler } from 'express';
import { EVENT_KIND_IDS, isEventKind, type EventKind } from '../../shared/events/event-kinds.js';
import type { UserStore, ViewerPreferences } from '../../shared/db/user-store.js';
import { badRequest, HttpError } from '../errors.js';

const KIND_LIST = EVENT_KIND_IDS.join(', ');

/**
 * The body of `PUT /api/me/preferences`, checked field by field so that the 400 names what is
 * wrong: `{hiddenKinds: EventKind[]}`, each kind once, nothing else.
 */
export function parsePreferences(body: unknown): ViewerPreferences {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest(
      'The body must be a JSON object {"hiddenKinds": [...]} sent as application/json',
      'invalid_preferences',
    );
  }
  const extra = Object.keys(body).filter((key) => key !== 'hiddenKinds');
  if (extra.length > 0) {
    throw badRequest(
      `Unknown field ${extra.map((key) => JSON.stringify(key)).join(', ')}: preferences take only hiddenKinds`,
      'invalid_preferences',
    );
  }
  const { hiddenKinds } = body as { hiddenKinds?: unknown };
  if (!Array.isArray(hiddenKinds)) {
    throw badRequest(
      `hiddenKinds must be an array of event kinds (${KIND_LIST}); [] hides nothing`,
      'invalid_preferences',
    );
  }
  const seen = new Set<EventKind>();
  for (const kind of hiddenKinds as unknown[]) {
    if (!isEventKind(kind)) {
      throw badRequest(
        `hiddenKinds: ${JSON.stringify(kind)} is not an event kind; the kinds are ${KIND_LIST}`,
        'unknown_kind',
      );
    }
    if (seen.has(kind)) {
      throw badRequest(`hiddenKinds names "${kind}" more than once`, 'duplicate_kind');
    }
    seen.add(kind);
  }
  // Stored in the kinds' own order, so the same choice always reads back the same.
  return { hiddenKinds: EVENT_KIND_IDS.filter((kind) => seen.has(kind)) };
}

/** `PUT /api/me/preferences`: replaces the viewer's preferences, answers what is now stored. */
export function putPreferences(users: UserStore): RequestHandler {
  return async (req, res) => {
    const preferences = parsePreferences(req.body);
    if (!(await users.setPreferences(req.user!.id, preferences))) {
      throw new HttpError(401, 'unauthorized', 'Log in with Twitch first');
    }
    res.json({ preferences });
  };
}
