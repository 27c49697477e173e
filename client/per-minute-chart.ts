import { EVENT_KINDS, OTHER_EVENTS, type EventKind } from '../src/shared/events/event-kinds.js';
import { api, type PerMinute } from './api.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 600;
const HEIGHT = 80;
const REFRESH_MS = 30_000;
const AFTER_EVENT_MS = 3000;

const svgElement = (name: string, attributes: Record<string, string | number>) => {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
};

/**
 * Events per minute over the last hour as stacked bars, one colour per shown kind and one for
 * `other`, drawn as inline SVG: sixty bars need no charting library. The picture is one image to
 * assistive technology, named by the hour's totals; the legend beside it says which colour is
 * which.
 */
export function drawPerMinuteChart(
  host: HTMLElement,
  data: PerMinute,
  hidden: ReadonlySet<EventKind>,
): void {
  // `other` is drawn whatever is hidden: most of it is the types the list shows anyway (bans,
  // authorizations), and there is no box to hide it by.
  const kinds: Array<{ id: EventKind | 'other'; label: string }> = [
    ...EVENT_KINDS.filter((kind) => !hidden.has(kind.id)),
    OTHER_EVENTS,
  ];
  const buckets = data.counts.follows.length;
  const totals = Array.from({ length: buckets }, (_, minute) =>
    kinds.reduce((sum, kind) => sum + (data.counts[kind.id][minute] ?? 0), 0),
  );
  const peak = Math.max(1, ...totals);
  const barWidth = WIDTH / buckets;
  const perKind = kinds
    .map((kind) => ({ kind, sum: data.counts[kind.id].reduce((a, b) => a + b, 0) }))
    .filter(({ sum }) => sum > 0);
  const description =
    perKind.length === 0
      ? 'Events per minute over the last hour: none.'
      : `Events per minute over the last hour: ${perKind.map(({ kind, sum }) => `${kind.label}: ${sum}`).join(', ')}. Busiest minute: ${peak}.`;
  const svg = svgElement('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    preserveAspectRatio: 'none',
    role: 'img',
    'aria-label': description,
  });
  svg.classList.add('chart');
  for (let minute = 0; minute < buckets; minute++) {
    let top = HEIGHT;
    for (const kind of kinds) {
      const count = data.counts[kind.id][minute] ?? 0;
      if (count === 0) continue;
      const height = (count / peak) * (HEIGHT - 2);
      top -= height;
      const bar = svgElement('rect', {
        x: minute * barWidth + 0.5,
        y: top,
        width: Math.max(1, barWidth - 1),
        height,
      });
      bar.classList.add(`k-${kind.id}`);
      bar.dataset.kind = kind.id;
      bar.dataset.count = String(count);
      svg.append(bar);
    }
  }
  svg.append(svgElement('line', { x1: 0, y1: HEIGHT - 0.5, x2: WIDTH, y2: HEIGHT - 0.5 }));
  const legend = document.createElement('ul');
  legend.className = 'legend';
  for (const { kind, sum } of perKind) {
    const entry = document.createElement('li');
    entry.className = `k-${kind.id}`;
    entry.textContent = `${kind.label} ${sum}`;
    legend.append(entry);
  }
  const axis = document.createElement('div');
  axis.className = 'axis';
  axis.setAttribute('aria-hidden', 'true');
  axis.innerHTML = '<span>1 hour ago</span><span>now</span>';
  host.replaceChildren(svg, axis, legend);
}

/** The per-minute chart of one streamer, fetched now, every half minute and after live events. */
export function createPerMinuteChart(
  host: HTMLElement,
  broadcasterId: string,
  hidden: () => ReadonlySet<EventKind>,
) {
  host.replaceChildren();
  let data: PerMinute | undefined;
  let soonTimer: ReturnType<typeof setTimeout> | undefined;
  const redraw = () => {
    if (data) drawPerMinuteChart(host, data, hidden());
  };
  const refresh = () => {
    // Offline, a request can only fail; the next refresh after the network is back catches up.
    if (!navigator.onLine) return;
    void api.perMinute(broadcasterId).then(
      (fresh) => {
        data = fresh;
        redraw();
      },
      // The chart is an extra: the next refresh tries again.
      () => undefined,
    );
  };
  const every = setInterval(refresh, REFRESH_MS);
  refresh();
  return {
    /** Draws again with the kinds now shown. */
    redraw,
    /** A refresh a little later: a burst of events costs one request. */
    soon(): void {
      soonTimer ??= setTimeout(() => {
        soonTimer = undefined;
        refresh();
      }, AFTER_EVENT_MS);
    },
    stop(): void {
      clearInterval(every);
      clearTimeout(soonTimer);
    },
  };
}
