import type { FeedEvent } from './api.js';
import { renderSummary } from './summary-text.js';
import { createSummaryToggles } from './summary-toggle.js';

const ICONS: Array<[RegExp, string]> = [
  [/^stream\./, 'live'],
  [/follow/, 'follow'],
  [/subscri/, 'sub'],
  [/cheer|hype_train/, 'bits'],
  [/raid/, 'raid'],
  [/chat/, 'chat'],
  [/poll|prediction|redemption/, 'poll'],
  [/ban|moderat/, 'mod'],
];
const MAX_SHOWN = 100;

function timeAgo(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 45) return 'just now';
  const units: Array<[number, string]> = [
    [86400 * 365, 'year'],
    [86400 * 30, 'month'],
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    const count = Math.floor(seconds / size);
    if (count >= 1) return `${count} ${name}${count === 1 ? '' : 's'} ago`;
  }
  return 'just now';
}

/** The event list: newest on top, each event once, times kept fresh. */
export function createFeedList(list: HTMLOListElement, empty: HTMLElement) {
  const shown = new Set<string>();
  const toggles = createSummaryToggles();
  const refresh = () => {
    for (const time of list.querySelectorAll('time')) time.textContent = timeAgo(time.dateTime);
  };
  setInterval(refresh, 30_000);

  function item(event: FeedEvent): HTMLLIElement {
    const li = document.createElement('li');
    li.dataset.id = event.id;
    li.dataset.type = event.type;
    const icon = ICONS.find(([pattern]) => pattern.test(event.type))?.[1] ?? 'other';
    li.innerHTML = `<svg aria-hidden="true"><use href="/icons.svg#i-${icon}"></use></svg><div class="text"><span class="summary" dir="ltr"></span></div><time></time>`;
    const summary = li.querySelector<HTMLElement>('.summary')!;
    renderSummary(summary, event);
    summary.after(toggles.attach(summary));
    if (event.backfilled) {
      li.dataset.backfilled = 'true';
      const mark = document.createElement('span');
      mark.className = 'backfilled';
      mark.textContent = 'while streamfeed was away';
      summary.parentElement!.append(mark);
    }
    const time = li.querySelector('time')!;
    time.dateTime = event.occurredAt;
    time.textContent = timeAgo(event.occurredAt);
    return li;
  }

  return {
    /** Adds events given oldest first; an event already shown is skipped. */
    add(events: FeedEvent[]): void {
      for (const event of events) {
        if (shown.has(event.id)) continue;
        shown.add(event.id);
        list.prepend(item(event));
      }
      while (list.children.length > MAX_SHOWN) {
        toggles.detach(list.lastElementChild!);
        list.lastElementChild!.remove();
      }
      empty.hidden = list.children.length > 0;
    },
    clear(): void {
      shown.clear();
      for (const row of list.children) toggles.detach(row);
      list.replaceChildren();
      empty.hidden = false;
    },
    /** Takes out the listed events whose type `keep` refuses. */
    retain(keep: (type: string) => boolean): void {
      for (const row of [...list.children] as HTMLElement[]) {
        if (keep(row.dataset.type ?? '')) continue;
        shown.delete(row.dataset.id ?? '');
        toggles.detach(row);
        row.remove();
      }
      empty.hidden = list.children.length > 0;
    },
    /** The types of the events listed, one entry per event. */
    types: (): string[] => [...list.children].map((row) => (row as HTMLElement).dataset.type ?? ''),
    /** The newest event shown, the `since` of a catch-up. */
    newestId: (): string | undefined => (list.firstElementChild as HTMLElement | null)?.dataset.id,
  };
}
