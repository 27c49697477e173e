import type { Knex } from '../../src/shared/connections/database.js';

/** A streamer of a load, by rank: rank 1 is the busiest. */
export interface LoadStreamer {
  id: string;
  login: string;
  displayName: string;
}

export interface EventLoad {
  /** Where the rows go: `events` (routed to its partitions) or a table shaped like it. */
  into: string;
  /** Row numbers `first` .. `first + count - 1`: each makes one row, with its own id and seq. */
  first: number;
  count: number;
  /** The rows' `occurred_at` (and `received_at`) spread over [from, to). */
  from: Date;
  to: Date;
}

const COLUMNS =
  'id, type, broadcaster_id, broadcaster_login, broadcaster_name, occurred_at, event_time, ' +
  'actor, summary, data, message_id, received_at, seq';

/**
 * Rows to copy from: `load_seed` (each stored event's type, actor, summary and data, numbered
 * from 1) and `load_streamers` (rank, id, login, name). A load then makes rows server-side, many
 * times faster than sending them, with the contents of real stored events.
 */
export async function createLoadSources(
  knex: Knex,
  seed: { from: string; streamers: LoadStreamer[] },
): Promise<{ seedRows: number }> {
  await knex.raw(
    `CREATE TABLE load_seed AS
    SELECT row_number() OVER (ORDER BY id) AS n, type, actor, summary, data FROM ??`,
    [seed.from],
  );
  await knex.raw('ALTER TABLE load_seed ADD PRIMARY KEY (n)');
  await knex.raw(
    'CREATE TABLE load_streamers (rank integer PRIMARY KEY, id text, login text, name text)',
  );
  const ranked = seed.streamers.map((s, i) => ({
    rank: i + 1,
    id: s.id,
    login: s.login,
    name: s.displayName,
  }));
  for (let i = 0; i < ranked.length; i += 5000) {
    await knex('load_streamers').insert(ranked.slice(i, i + 5000));
  }
  const count = await knex('load_seed').count<Array<{ count: string }>>('* as count');
  return { seedRows: Number(count[0]!.count) };
}

/**
 * Inserts `load.count` rows made from the load sources: contents cycled from `load_seed`, a
 * streamer drawn with weight 1/rank (as the traffic generator draws them: rank 1 gets
 * ln 2 / ln(S + 1) of the rows, about 7.5% of them over 10,000 streamers), a fresh id and
 * message id, `seq` the row number (so rising within each streamer's feed, with gaps).
 */
export async function loadEvents(knex: Knex, load: EventLoad): Promise<void> {
  const seconds = Math.max(1, Math.floor((load.to.getTime() - load.from.getTime()) / 1000));
  await knex.raw(
    `INSERT INTO ?? (${COLUMNS})
     SELECT 'ev_' || substr(translate(encode(sha256(int8send(g)), 'base64'), '+/', '-_'), 1, 22),
            s.type, p.id, p.login, p.name, t.at, NULL, s.actor, s.summary, s.data,
            gen_random_uuid()::text, t.at, g
       FROM (SELECT count(*) AS n FROM load_streamers) AS sc,
            (SELECT count(*) AS n FROM load_seed) AS sd,
            generate_series(?::bigint, ?::bigint) AS g,
            LATERAL (SELECT least(floor(power(sc.n + 1, random())), sc.n)::integer AS rank,
                            to_timestamp(?::double precision + (g * 7919) % ?) AS at) AS t,
            load_streamers p, load_seed s
      WHERE p.rank = t.rank AND s.n = 1 + g % sd.n`,
    [load.into, load.first, load.first + load.count - 1, load.from.getTime() / 1000, seconds],
  );
}
