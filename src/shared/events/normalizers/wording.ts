const SUMMARY_LIMIT = 300;

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * One line of at most SUMMARY_LIMIT UTF-16 units, so a long chat message cannot flood the feed.
 * Cuts between graphemes, so an emoji or an accented letter is never split.
 */
export function clip(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line.length <= SUMMARY_LIMIT) return line;
  let kept = '';
  // The margin lets the segmenter see past the cut, so a cluster the cut splits is left out.
  for (const { segment } of segmenter.segment(line.slice(0, SUMMARY_LIMIT + 64))) {
    if (kept.length + segment.length > SUMMARY_LIMIT - 1) break;
    kept += segment;
  }
  return `${kept.trimEnd()}…`;
}

/** "1000" -> "Tier 1", ..., "prime" -> "Prime"; null when Twitch sent none. */
export function tierName(tier: string | null): string | null {
  if (tier === null) return null;
  const known: Record<string, string> = {
    '1000': 'Tier 1',
    '2000': 'Tier 2',
    '3000': 'Tier 3',
    prime: 'Prime',
  };
  return Object.hasOwn(known, tier.toLowerCase()) ? known[tier.toLowerCase()]! : `tier ${tier}`;
}

export const plural = (count: number, one: string, many = `${one}s`): string =>
  `${count} ${count === 1 ? one : many}`;

/** " (text)" or nothing, for an optional reason or detail at the end of a sentence. */
export const aside = (text: string | null): string => (text?.trim() ? ` (${text.trim()})` : '');

/** ": text" or nothing, for a message a user typed. */
export const quote = (text: string | null): string => (text?.trim() ? `: ${text.trim()}` : '');

const UNITS: Array<[string, number]> = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
];

/** A whole number of the largest unit that fits exactly: 60 s -> "1 minute", 90 s -> "90 seconds". */
export function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const [unit, size] = UNITS.find(([, size]) => seconds >= size && seconds % size === 0) ?? [
    'second',
    1,
  ];
  return plural(seconds / size, unit);
}

/** First letter upper-case, the rest as it is. */
export const sentence = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
