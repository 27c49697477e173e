import type { FeedEvent } from './api.js';

/** Controls that open an embedding, an override or an isolate; only user text carries them. */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/;
/** How deep into `data` to look for user text; Twitch's payloads nest a level or two. */
const MAX_DEPTH = 4;

/**
 * The strings users chose that a summary may quote (names, messages, titles, reward and poll
 * names), longest first, with whitespace runs collapsed as the summaries are.
 */
function userTexts(event: FeedEvent): string[] {
  const found = new Set<string>();
  const visit = (value: unknown, depth: number): void => {
    if (typeof value === 'string') {
      const text = value.replace(/\s+/g, ' ').trim();
      if (text) found.add(text);
    } else if (value !== null && typeof value === 'object' && depth < MAX_DEPTH) {
      for (const inner of Object.values(value)) visit(inner, depth + 1);
    }
  };
  visit([event.actor?.name, event.actor?.login, event.broadcasterName, event.broadcasterLogin], 0);
  visit(event.data, 0);
  return [...found].sort((a, b) => b.length - a.length);
}

const WORD_CHARACTER = /[\p{L}\p{M}\p{N}_]/u;

/**
 * [start, end) ranges of `summary` that quote user text, in order and not overlapping. Only
 * whole words count: a short value such as "live" is not looked for inside other words.
 */
function userRanges(summary: string, texts: string[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const free = (start: number, end: number) => ranges.every(([s, e]) => end <= s || start >= e);
  const bounded = (start: number, end: number) =>
    !WORD_CHARACTER.test(summary.charAt(start - 1)) && !WORD_CHARACTER.test(summary.charAt(end));
  for (const text of texts) {
    for (let at = summary.indexOf(text); at >= 0; at = summary.indexOf(text, at + 1)) {
      const end = at + text.length;
      if (bounded(at, end) && free(at, end)) ranges.push([at, end]);
    }
  }
  return ranges.sort((a, b) => a[0] - b[0]);
}

/** `text` in a `<bdi>`, so that its direction neither takes from nor spills into what is around. */
export const isolated = (text: string): HTMLElement => {
  const bdi = document.createElement('bdi');
  bdi.textContent = text;
  return bdi;
};

/**
 * Text of the page's own, except that any word still carrying a bidi control (user text the
 * event's fields did not give away, say cut short by the summary's length limit) is isolated.
 */
function pageText(text: string): Node[] {
  if (!BIDI_CONTROL.test(text)) return [document.createTextNode(text)];
  return text
    .split(/(\s+)/)
    .filter((part) => part !== '')
    .map((part) => (BIDI_CONTROL.test(part) ? isolated(part) : document.createTextNode(part)));
}

/**
 * Fills `target` with the event's summary, each part that quotes user text in its own `<bdi>`:
 * Unicode's bidi rules would otherwise let a right-to-left mark or an unterminated override in a
 * name run on into the page's words ("dewollof"). The text is unchanged, only isolated.
 */
export function renderSummary(target: HTMLElement, event: FeedEvent): void {
  const { summary } = event;
  const nodes: Node[] = [];
  let at = 0;
  for (const [start, end] of userRanges(summary, userTexts(event))) {
    nodes.push(...pageText(summary.slice(at, start)), isolated(summary.slice(start, end)));
    at = end;
  }
  nodes.push(...pageText(summary.slice(at)));
  target.replaceChildren(...nodes);
}
