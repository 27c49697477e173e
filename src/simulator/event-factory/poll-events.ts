import { channelOf, type Ctx, type EventBuilder } from './types.js';

const POLLS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['Which game next?', ['Elden Ring', 'Celeste', 'Hades II', 'Minecraft']],
  ['Pizza or sushi? 🍕🍣', ['Pizza', 'Sushi']],
  ['Should I dye my hair blue?', ['Yes!', 'No', 'Purple instead']],
  ['今日の配信どうだった？', ['最高！', 'まあまあ', 'もっと見たい']],
  ['Aren’t shoes just really hard socks?', ['Yeah!', 'No!', 'Maybe!']],
];
const DURATIONS_S = [15, 30, 60, 120, 300, 600, 1800];

type Phase = 'begin' | 'progress' | 'end';

function poll(c: Ctx, phase: Phase) {
  const [title, options] = c.rng.pick(POLLS);
  const bits = c.rng.chance(0.1);
  const points = c.rng.chance(0.6);
  const choices = options.map((option) => {
    const choice = { id: c.uuid(), title: option };
    // The docs show bare choices on begin; votes come with progress and end.
    if (phase === 'begin') return choice;
    const bitsVotes = bits ? c.rng.int(0, 40) : 0;
    const pointsVotes = points ? c.rng.int(0, 150) : 0;
    return {
      ...choice,
      bits_votes: bitsVotes,
      channel_points_votes: pointsVotes,
      votes: bitsVotes + pointsVotes + c.rng.int(0, 300),
    };
  });
  return {
    id: c.uuid(),
    ...channelOf(c),
    title,
    choices,
    bits_voting: { is_enabled: bits, amount_per_vote: bits ? c.rng.pick([10, 50, 100]) : 0 },
    channel_points_voting: {
      is_enabled: points,
      amount_per_vote: points ? c.rng.pick([10, 50, 100, 500, 1000]) : 0,
    },
  };
}

export const pollBuilders: Record<string, EventBuilder> = {
  'channel.poll.begin': {
    version: '1',
    build: (c) => ({
      ...poll(c, 'begin'),
      started_at: c.at(),
      ends_at: c.at(c.rng.pick(DURATIONS_S) * 1000),
    }),
  },
  'channel.poll.progress': {
    version: '1',
    build: (c) => {
      const duration = c.rng.pick(DURATIONS_S) * 1000;
      const elapsed = c.rng.int(1000, duration - 1000);
      return {
        ...poll(c, 'progress'),
        started_at: c.at(-elapsed),
        ends_at: c.at(duration - elapsed),
      };
    },
  },
  'channel.poll.end': {
    version: '1',
    build: (c) => ({
      ...poll(c, 'end'),
      status: c.rng.weighted([
        ['completed', 85],
        ['terminated', 10],
        ['archived', 5],
      ] as const),
      started_at: c.at(-c.rng.pick(DURATIONS_S) * 1000),
      ended_at: c.at(),
    }),
  },
};
