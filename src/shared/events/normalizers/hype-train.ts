import type { Fields } from './fields.js';
import type { Normalizer } from './types.js';
import { sentence } from './wording.js';

const KINDS: Record<string, string> = {
  golden_kappa: 'Golden Kappa train',
  treasure: 'treasure train',
};

/** "hype train", "shared Golden Kappa train", ... */
function train(f: Fields): string {
  const kind = f.text('type');
  const name = kind !== null && Object.hasOwn(KINDS, kind) ? KINDS[kind]! : 'hype train';
  return f.flag('is_shared_train') ? `shared ${name}` : name;
}

export const hypeTrainNormalizers: Record<string, Normalizer> = {
  'channel.hype_train.begin': (f) => {
    const level = f.count('level');
    return {
      actor: null,
      summary: sentence(`${train(f)}${level === null ? '' : ` level ${level}`} started`),
      timeField: 'started_at',
    };
  },
  'channel.hype_train.progress': (f) => {
    const level = f.count('level');
    const progress = f.count('progress');
    const goal = f.count('goal');
    const toGoal = progress !== null && goal ? ` (${progress}/${goal})` : '';
    return {
      actor: null,
      summary: sentence(
        level === null
          ? `${train(f)} progressed${toGoal}`
          : `${train(f)} at level ${level}${toGoal}`,
      ),
    };
  },
  'channel.hype_train.end': (f) => {
    const level = f.count('level');
    return {
      actor: null,
      summary: sentence(`${train(f)} ended${level === null ? '' : ` at level ${level}`}`),
      timeField: 'ended_at',
    };
  },
};
