import type { Fields } from './fields.js';
import type { Normalizer } from './types.js';

const title = (f: Fields) => f.text('title') ?? 'untitled prediction';

function winner(f: Fields): string | null {
  const id = f.text('winning_outcome_id');
  if (id === null) return null;
  return (
    f
      .list('outcomes')
      .find((outcome) => outcome.text('id') === id)
      ?.text('title') ?? null
  );
}

export const predictionNormalizers: Record<string, Normalizer> = {
  'channel.prediction.begin': (f) => ({
    actor: null,
    summary: `Prediction started: ${title(f)}`,
    timeField: 'started_at',
  }),
  'channel.prediction.progress': (f) => ({
    actor: null,
    summary: `Prediction update: ${title(f)}`,
  }),
  'channel.prediction.lock': (f) => ({
    actor: null,
    summary: `Prediction locked: ${title(f)}`,
    timeField: 'locked_at',
  }),
  'channel.prediction.end': (f) => {
    if (f.text('status') === 'canceled') {
      return { actor: null, summary: `Prediction canceled: ${title(f)}`, timeField: 'ended_at' };
    }
    const won = winner(f);
    return {
      actor: null,
      summary: `Prediction ended: ${title(f)}${won ? `, winner: ${won}` : ''}`,
      timeField: 'ended_at',
    };
  },
};
