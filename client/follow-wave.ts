import { api, type FeedEvent } from './api.js';
import { isolated, renderSummary } from './summary-text.js';

/** The type of a follow wave's entry (src/shared/feed/follow-waves.ts). */
export const FOLLOW_WAVE_TYPE = 'channel.follow.wave';
/** The most followers the expanded list fetches from the event history. */
const MAX_LISTED = 2000;

interface Follower {
  id: string;
  login: string;
  name: string;
}

export const isWave = (event: FeedEvent): boolean => event.type === FOLLOW_WAVE_TYPE;
/** A follow that a wave took in: listed inside its wave, never as a row of its own. */
export const inWave = (event: FeedEvent): boolean => typeof event.data?.waveId === 'string';
export const waveCount = (event: FeedEvent): number => Number(event.data?.count ?? 0);

let nextId = 0;

/** Every follower of a wave, from the history: its follows come right below its entry. */
async function fetchFollowers(wave: FeedEvent): Promise<Follower[]> {
  const followers: Follower[] = [];
  let before = wave.id;
  while (followers.length < MAX_LISTED) {
    const { events } = await api.eventsBefore(wave.broadcasterId, before, 100);
    const mine = events.filter((e) => e.data?.waveId === wave.id);
    for (const e of mine) if (e.actor) followers.push(e.actor);
    if (mine.length < events.length || events.length === 0) break;
    before = events.at(-1)!.id;
  }
  return followers;
}

function names(followers: Follower[]): HTMLElement[] {
  return followers.map((follower) => {
    const item = document.createElement('li');
    item.append(isolated(follower.name));
    return item;
  });
}

/**
 * The extras of a wave's row: a "Show who followed" button that lists the newest followers the
 * entry carries at once, then every follower from the history.
 */
export function attachWave(row: HTMLElement, wave: FeedEvent): void {
  row.classList.add('wave');
  row.dataset.count = String(waveCount(wave));
  const list = document.createElement('ul');
  list.className = 'wave-followers';
  list.id = `wave-followers-${++nextId}`;
  list.hidden = true;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'link wave-toggle';
  button.textContent = 'Show who followed';
  button.setAttribute('aria-expanded', 'false');
  button.setAttribute('aria-controls', list.id);
  button.addEventListener('click', () => {
    const open = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', String(open));
    button.textContent = open ? 'Hide followers' : 'Show who followed';
    list.hidden = !open;
    if (!open) return;
    const current = JSON.parse(row.dataset.wave!) as FeedEvent;
    list.replaceChildren(...names((current.data?.latest as Follower[] | undefined) ?? []));
    void fetchFollowers(current).then(
      (all) => {
        if (all.length > 0 && !list.hidden) list.replaceChildren(...names(all));
      },
      () => undefined,
    );
  });
  row.dataset.wave = JSON.stringify(wave);
  row.querySelector('.text')!.append(button, list);
}

/** Shows a wave's newer state in its row; an older or equal one changes nothing. */
export function updateWave(row: HTMLElement, wave: FeedEvent): boolean {
  if (waveCount(wave) <= Number(row.dataset.count ?? 0)) return false;
  row.dataset.count = String(waveCount(wave));
  row.dataset.wave = JSON.stringify(wave);
  renderSummary(row.querySelector<HTMLElement>('.summary')!, wave);
  return true;
}
