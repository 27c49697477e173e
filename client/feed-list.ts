import type { FeedEvent } from './api.js';
import type { ReplayedEvent } from './live-feed.js';
import { renderSummary } from './summary-text.js';
import { createSummaryToggles } from './summary-toggle.js';
import { attachWave, inWave, isWave, updateWave, waveCount } from './follow-wave.js';

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

/**
 * The event list: newest on top, each event once, times kept fresh. `notice` says what was
 * replayed when the replayed event is not among the rows.
 */
export function createFeedList(list: HTMLOListElement, empty: HTMLElement, notice?: HTMLElement) {
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
    li.dataset.event = JSON.stringify(event);
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
    if (isWave(event)) attachWave(li, event);
    if (replay) addReplayButton(li, event);
    return li;
  }

  let replay: ((event: FeedEvent) => Promise<string | null>) | undefined;
  function addReplayButton(row: HTMLElement, event: FeedEvent): void {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'link replay';
    button.textContent = 'Replay';
    button.setAttribute('aria-label', `Replay: ${event.summary}`);
    button.addEventListener('click', () => {
      button.disabled = true;
      void replay!(event).then((problem) => {
        button.disabled = false;
        if (problem && notice) {
          notice.hidden = false;
          notice.textContent = problem;
        }
      });
    });
    row.querySelector('.text')!.append(button);
  }

  const rowOf = (id: string) =>
    list.querySelector<HTMLElement>(`:scope > li[data-id="${CSS.escape(id)}"]`);
  /** Newer states of waves not shown yet (an update can overtake its entry's catch-up). */
  const laterStates = new Map<string, FeedEvent>();

  /** A wave's newer state: shown in its row, or kept for when the row comes. */
  function update(event: FeedEvent): void {
    const row = rowOf(event.id);
    if (row) {
      updateWave(row, event);
      return;
    }
    const known = laterStates.get(event.id);
    if (!known || waveCount(known) < waveCount(event)) laterStates.set(event.id, event);
  }

  return {
    /** Adds events given oldest first; an event already shown is skipped. */
    add(events: FeedEvent[]): void {
      for (const given of events) {
        // A follow of a wave is listed inside the wave's row.
        if (inWave(given)) continue;
        if (shown.has(given.id)) {
          if (isWave(given)) update(given);
          continue;
        }
        const later = laterStates.get(given.id);
        laterStates.delete(given.id);
        const event = later && waveCount(later) > waveCount(given) ? later : given;
        shown.add(event.id);
        list.prepend(item(event));
      }
      while (list.children.length > MAX_SHOWN) {
        toggles.detach(list.lastElementChild!);
        list.lastElementChild!.remove();
      }
      empty.hidden = list.children.length > 0;
    },
    update,
    /** Gives every row, and each one to come, a Replay button that calls `onReplay`. */
    enableReplay(onReplay: (event: FeedEvent) => Promise<string | null>): void {
      if (replay) return;
      replay = onReplay;
      for (const row of list.children) {
        const event = JSON.parse((row as HTMLElement).dataset.event!) as FeedEvent;
        addReplayButton(row as HTMLElement, event);
      }
    },
    /** A replay marks the event's row (highlighted, "Replayed"); it adds no row. */
    markReplayed(replay: ReplayedEvent): void {
      const row = rowOf(replay.event.id);
      if (!row) {
        if (!notice) return;
        notice.hidden = false;
        notice.replaceChildren('Replayed: ');
        const summary = document.createElement('span');
        renderSummary(summary, replay.event);
        notice.append(summary);
        return;
      }
      row.classList.remove('replayed');
      // Restarts the highlight when the same event is replayed again.
      void row.offsetWidth;
      row.classList.add('replayed');
      row.dataset.replayedAt = replay.replayedAt;
      if (!row.querySelector('.replay-mark')) {
        const mark = document.createElement('span');
        mark.className = 'replay-mark';
        mark.textContent = 'Replayed';
        row.querySelector('.text')!.prepend(mark);
      }
    },
    clear(): void {
      shown.clear();
      laterStates.clear();
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
