import { EVENT_KIND_IDS, isEventKind, type EventKind } from '../../shared/events/event-kinds.js';
import { badRequest } from '../errors.js';

/**
 * `?kinds=follows,raids`: the event kinds a page shows, comma-separated, each once; `kinds=`
 * (empty) shows none of them (only the always-shown types). Absent: no filter.
 */
export function parseKinds(value: unknown): EventKind[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw badRequest('kinds must be given once, as a comma-separated list of event kinds');
  }
  if (value === '') return [];
  const kinds: EventKind[] = [];
  for (const kind of value.split(',')) {
    if (!isEventKind(kind)) {
      throw badRequest(
        `kinds: ${JSON.stringify(kind)} is not an event kind; the kinds are ${EVENT_KIND_IDS.join(', ')}`,
        'unknown_kind',
      );
    }
    if (kinds.includes(kind)) throw badRequest(`kinds names "${kind}" more than once`);
    kinds.push(kind);
  }
  return kinds;
}
