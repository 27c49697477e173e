import type { Normalizer } from './types.js';

export const streamNormalizers: Record<string, Normalizer> = {
  'stream.online': (f, b) => {
    // live, playlist, watch_party, premiere or rerun
    const kind = f.text('type');
    return {
      actor: null,
      summary: `${b.name} went live${kind && kind !== 'live' ? ` (${kind.replace(/_/g, ' ')})` : ''}`,
      timeField: 'started_at',
    };
  },
  'stream.offline': (_f, b) => ({ actor: null, summary: `${b.name} went offline` }),
};
