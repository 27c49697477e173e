import type { Fields } from './fields.js';
import type { Normalizer } from './types.js';

const title = (f: Fields) => f.text('title') ?? 'untitled poll';

/** The title of the one choice with the most votes; null on a tie or with no votes yet. */
function leader(f: Fields): string | null {
  const ranked = f
    .list('choices')
    .map((choice) => ({ title: choice.text('title'), votes: choice.count('votes') ?? 0 }))
    .sort((a, b) => b.votes - a.votes);
  const [first, second] = ranked;
  if (!first || first.votes === 0 || (second && second.votes === first.votes)) return null;
  return first.title;
}

export const pollNormalizers: Record<string, Normalizer> = {
  'channel.poll.begin': (f) => ({
    actor: null,
    summary: `Poll started: ${title(f)}`,
    timeField: 'started_at',
  }),
  'channel.poll.progress': (f) => {
    const leading = leader(f);
    return {
      actor: null,
      summary: `Poll update: ${title(f)}${leading ? `, leading: ${leading}` : ''}`,
    };
  },
  'channel.poll.end': (f) => {
    const winner = leader(f);
    return {
      actor: null,
      summary: `Poll ended: ${title(f)}${winner ? `, winner: ${winner}` : ''}`,
      timeField: 'ended_at',
    };
  },
};
