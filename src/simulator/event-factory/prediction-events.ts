import { fakeUsers } from './fake-users.js';
import { channelOf, type Ctx, type EventBuilder } from './types.js';

const PREDICTIONS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['Will we win this round?', ['Yes', 'No']],
  ['Boss first try? 💀', ['Easy', 'No chance']],
  ['How many deaths this level?', ['0-5', '6-10', '11-20', '20+']],
  ['Aren’t shoes just really hard socks?', ['Yeah!', 'No!']],
  ['ランクマ勝てる？', ['勝つ', '負ける']],
];
const MINUTE = 60_000;

type Phase = 'begin' | 'progress' | 'lock' | 'end';

/** Outcomes as the phase shows them; on end, winners' top predictors get their points. */
function outcomes(c: Ctx, options: readonly string[], phase: Phase, winner: number | null) {
  // Two outcomes are blue and pink; with more, Twitch shows them all blue.
  const color = (i: number) => (options.length === 2 && i === 1 ? 'pink' : 'blue');
  return options.map((title, i) => {
    const outcome = { id: c.uuid(), title, color: color(i) };
    if (phase === 'begin') return outcome;
    const predictors = fakeUsers(c.rng.int(0, 3), c.rng.random).map((u) => ({
      user_name: u.displayName,
      user_login: u.login,
      user_id: u.id,
      channel_points_won: null as number | null,
      channel_points_used: c.rng.int(1, 200) * 50,
    }));
    const used = predictors.reduce((sum, p) => sum + p.channel_points_used, 0);
    if (i === winner) {
      for (const p of predictors) p.channel_points_won = p.channel_points_used * 2;
    }
    return {
      ...outcome,
      users: predictors.length + c.rng.int(0, 400),
      channel_points: used + c.rng.int(0, 200) * 100,
      top_predictors: predictors,
    };
  });
}

function prediction(c: Ctx, phase: Phase, ending?: { resolved: boolean }) {
  const [title, options] = c.rng.pick(PREDICTIONS);
  const winner = ending?.resolved ? c.rng.int(0, options.length - 1) : null;
  const list = outcomes(c, options, phase, winner);
  return {
    id: c.uuid(),
    ...channelOf(c),
    title,
    ...(ending ? { winning_outcome_id: winner === null ? null : list[winner]!.id } : {}),
    outcomes: list,
  };
}

export const predictionBuilders: Record<string, EventBuilder> = {
  'channel.prediction.begin': {
    version: '1',
    build: (c) => ({
      ...prediction(c, 'begin'),
      started_at: c.at(),
      locks_at: c.at(c.rng.pick([1, 2, 5, 10]) * MINUTE),
    }),
  },
  'channel.prediction.progress': {
    version: '1',
    build: (c) => {
      const window = c.rng.pick([2, 5, 10]) * MINUTE;
      const elapsed = c.rng.int(5000, window - 5000);
      return {
        ...prediction(c, 'progress'),
        started_at: c.at(-elapsed),
        locks_at: c.at(window - elapsed),
      };
    },
  },
  'channel.prediction.lock': {
    version: '1',
    build: (c) => ({
      ...prediction(c, 'lock'),
      started_at: c.at(-c.rng.pick([1, 2, 5, 10]) * MINUTE),
      locked_at: c.at(),
    }),
  },
  'channel.prediction.end': {
    version: '1',
    build: (c) => {
      const resolved = c.rng.chance(0.9);
      return {
        ...prediction(c, 'end', { resolved }),
        status: resolved ? 'resolved' : 'canceled',
        started_at: c.at(-c.rng.int(5, 40) * MINUTE),
        ended_at: c.at(),
      };
    },
  },
};
