import type { Knex } from 'knex';
import type { Actor, StreamEvent } from '../events/event.js';
import { ensurePartition, isPartitionable, monthStart } from './partitions.js';
import { FOLLOW_WAVE_TYPE } from '../feed/follow-waves.js';

/** A row of `events` as selected for an Event (see toEvent). */
export interface EventRow {
  id: string;
  type: string;
  broadcaster_id: string;
  broadcaster_login: string;
  broadcaster_name: string;
  occurred_at: Date;
  /** The event's own time when `occurred_at` holds its arrival instead (see insert). */
  event_time: string | null;
  actor: Actor | null;
  summary: string;
  data: Record<string, unknown>;
  backfilled: boolean | null;
}

/** The columns an Event is read from (toEvent); the archive reads these too. */
export const EVENT_COLUMNS: string[] = [
  'id',
  'type',
  'broadcaster_id',
  'broadcaster_login',
  'broadcaster_name',
  'occurred_at',
  'event_time',
  'actor',
  'summary',
  'data',
  'backfilled',
];

/** An event and its feed position; null for events stored before positions were. */
export interface PositionedEvent {
  seq: number | null;
  event: StreamEvent;
}

/** The event a page starts after: its id and its feed position. */
export interface FeedAnchor {
  id: string;
  seq: number | null;
}

/** The contract's Event of a stored row: what the API and the archives (partition-archive.ts) give. */
export function toEvent(row: EventRow): StreamEvent {
  return {
    id: row.id,
    type: row.type,
    broadcasterId: row.broadcaster_id,
    broadcasterLogin: row.broadcaster_login,
    broadcasterName: row.broadcaster_name,
    occurredAt: row.event_time ?? row.occurred_at.toISOString(),
    actor: row.actor,
    summary: row.summary,
    data: row.data,
    ...(row.backfilled ? { backfilled: true as const } : {}),
  };
}

/** An event that no retry can store: its occurredAt is not a time at all. */
export class UnstorableEventError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'UnstorableEventError';
  }
}

function occurredAt(event: StreamEvent): Date {
  const date = new Date(event.occurredAt);
  if (Number.isNaN(date.getTime())) {
    throw new UnstorableEventError(
      `Event ${event.id} has an invalid occurredAt: ${event.occurredAt}`,
    );
  }
  return date;
}

/** One `events` row as an insert writes it (`received_at` is the table's default). */
export interface EventInsertRow {
  id: string;
  type: string;
  broadcaster_id: string;
  broadcaster_login: string;
  broadcaster_name: string;
  /** ISO 8601, millisecond precision. */
  occurred_at: string;
  event_time: string | null;
  /** JSON text, or null. */
  actor: string | null;
  summary: string;
  /** JSON text. */
  data: string;
  message_id: string | null;
  seq: number | null;
  /** True for a follow fetched from Helix after downtime; null otherwise. */
  backfilled: true | null;
}

/**
 * Writes rows to `events` in one go, skipping every row whose (id, occurred_at) is stored already
 * or came earlier in `rows`; returns how many were new. Rows outside every partition fail with
 * PostgreSQL's "no partition of relation" error (23514), which the store answers.
 */
export type EventRowWriter = (knex: Knex, rows: EventInsertRow[]) => Promise<number>;

/**
 * One multi-row `INSERT ... ON CONFLICT DO NOTHING`. Kept against COPY into a staging table and
 * `INSERT ... SELECT` from it (bench/store-copy.ts), measured at the group commit's batch sizes:
 * COPY costs 1.8, 1.65 and 1.09 times the CPU per event at 1, 10 and 50 events, and 0.91 times
 * at 100, the most a batch holds (docs/BENCHMARKS.md "Event store").
 */
export const insertByValues: EventRowWriter = async (knex, rows) => {
  const inserted = await knex('events').insert(rows).onConflict().ignore().returning('id');
  return inserted.length;
};

function isMissingPartition(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    code === '23514' && typeof message === 'string' && message.includes('no partition of relation')
  );
}

/**
 * A broadcaster's positioned events before `before`, newest first. With `types`, a branch per
 * type, each an ordered index seek on (broadcaster_id, type, seq, id) that stops at `limit`, and
 * the newest `limit` of their union: a page whose types are rare among the feed's events reads
 * no more rows than a page of common ones.
 */
function listPositioned(
  knex: Knex,
  broadcasterId: string,
  limit: number,
  before: FeedAnchor | undefined,
  types: readonly string[] | undefined,
) {
  const newestFirst = [
    { column: 'seq', order: 'desc' },
    { column: 'id', order: 'desc' },
  ];
  const branch = (type?: string) => {
    const query = knex('events')
      .select([...EVENT_COLUMNS, 'seq'])
      .where('broadcaster_id', broadcasterId)
      .whereNotNull('seq')
      .orderBy(newestFirst)
      .limit(limit);
    if (type !== undefined) query.where('type', type);
    if (before) query.whereRaw('(seq, id) < (?, ?)', [before.seq, before.id]);
    return query;
  };
  if (types === undefined) {
    return branch().then((rows) => rows as Array<EventRow & { seq: string }>);
  }
  if (types.length === 0) return Promise.resolve([]);
  return knex
    .select<Array<EventRow & { seq: string }>>('*')
    .from(
      knex
        .unionAll(
          types.map((type) => branch(type)),
          true,
        )
        .as('shown'),
    )
    .orderBy(newestFirst)
    .limit(limit);
}

const waveCount = (value: { data: string }): number =>
  Number((JSON.parse(value.data) as { count?: unknown }).count ?? 0);

/**
 * The `events` table: every stored event, partitioned by EVENT_PARTITION_INTERVAL on `occurred_at`. `write` is how
 * a batch reaches the table (the benchmark swaps it; the default is insertByValues).
 */
export function createEventStore(knex: Knex, options: { write?: EventRowWriter } = {}) {
  const write = options.write ?? insertByValues;
  return {
    /**
     * Stores events in one statement; an event already stored (same id and occurredAt) is skipped.
     * Creates a missing month's partition on demand. An event whose time no partition can hold
     * (RFC 3339 allows years 0000-9999) is stored under the time of this insert, its own time kept
     * in `event_time`; such an event is skipped when its id is stored already, as a retry has
     * another insert time. Returns how many rows were new.
     */
    async insert(
      rows: Array<{ event: StreamEvent; messageId: string | null; seq?: number }>,
    ): Promise<number> {
      if (rows.length === 0) return 0;
      const arrival = new Date();
      // Stored at millisecond precision, so what we read back orders the same as what we stored.
      let values = rows.map(({ event, messageId, seq }): EventInsertRow => {
        const time = occurredAt(event);
        const asGiven = isPartitionable(time);
        return {
          id: event.id,
          type: event.type,
          broadcaster_id: event.broadcasterId,
          broadcaster_login: event.broadcasterLogin,
          broadcaster_name: event.broadcasterName,
          occurred_at: (asGiven ? time : arrival).toISOString(),
          event_time: asGiven ? null : time.toISOString(),
          actor: event.actor === null ? null : JSON.stringify(event.actor),
          summary: event.summary,
          data: JSON.stringify(event.data),
          message_id: messageId,
          seq: seq ?? null,
          backfilled: event.backfilled ? true : null,
        };
      });
      const misdated = values.filter((v) => v.event_time !== null).map((v) => v.id);
      if (misdated.length > 0) {
        const stored = new Set(await knex('events').whereIn('id', misdated).pluck<string[]>('id'));
        values = values.filter((v) => v.event_time === null || !stored.has(v.id));
        if (values.length === 0) return 0;
      }
      // A follow wave's entry grows: each row of it is a newer state, stored over an older one
      // (never the other way round, whatever order the batches come in).
      const latestWaves = new Map<string, (typeof values)[number]>();
      const plain: typeof values = [];
      for (const value of values) {
        if (value.type !== FOLLOW_WAVE_TYPE) plain.push(value);
        else if (
          waveCount(value) >= waveCount(latestWaves.get(value.id) ?? { data: '{"count":-1}' })
        ) {
          latestWaves.set(value.id, value);
        }
      }
      const attempt = async () => {
        const inserted = plain.length ? await write(knex, plain) : 0;
        const waves = latestWaves.size
          ? await knex('events')
              .insert([...latestWaves.values()])
              .onConflict(['id', 'occurred_at'])
              .merge(['summary', 'data'])
              .whereRaw("(events.data->>'count')::int < (excluded.data->>'count')::int")
              .returning('id')
          : [];
        return inserted + waves.length;
      };
      try {
        return await attempt();
      } catch (error) {
        if (!isMissingPartition(error)) throw error;
        const months = new Set(values.map((v) => monthStart(new Date(v.occurred_at)).getTime()));
        for (const month of months) await ensurePartition(knex, new Date(month));
        return await attempt();
      }
    },

    /**
     * A broadcaster's events in arrival order, newest first: by feed position (`seq`, then id
     * as bytes), and the events stored before positions were (seq null) after all of them, by
     * the time they were stored (`received_at`, then id). With `before` (an event and its
     * position, from the feed cache or positionOf), only those that come after it in this order.
     * A `before` that names no stored event of that position gives an empty page. With `types`,
     * only events of those types: one index seek per type, merged (see listPositioned).
     */
    async listBefore(
      broadcasterId: string,
      limit: number,
      before?: FeedAnchor,
      types?: readonly string[],
    ): Promise<PositionedEvent[]> {
      const page: PositionedEvent[] = [];
      if (before === undefined || before.seq !== null) {
        const rows = await listPositioned(knex, broadcasterId, limit, before, types);
        for (const row of rows) page.push({ seq: Number(row.seq), event: toEvent(row) });
      }
      if (page.length === limit) return page;
      const unpositioned = knex('events')
        .select<EventRow[]>(EVENT_COLUMNS)
        .where('broadcaster_id', broadcasterId)
        .whereNull('seq')
        .orderBy([
          { column: 'received_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .limit(limit - page.length);
      // Rows from before feed positions only: a filter on their index, not a seek per type.
      if (types) unpositioned.whereIn('type', [...types]);
      if (before?.seq === null) {
        const anchor = knex('events')
          .select('received_at', 'id')
          .where({ broadcaster_id: broadcasterId, id: before.id })
          .whereNull('seq')
          .limit(1);
        // A missing anchor makes the row comparison NULL, so no row matches.
        unpositioned.whereRaw('(received_at, id) < (?)', [anchor]);
      }
      for (const row of await unpositioned) page.push({ seq: null, event: toEvent(row) });
      return page;
    },

    /**
     * How many of a broadcaster's events happened in each minute from `from` (a minute's start)
     * up to `to`, by type: rows `{minute, type, count}` for the minutes and types that had any.
     * A range seek on (broadcaster_id, occurred_at); events stored under their arrival time
     * (event_time set: a year no partition holds) are not counted.
     */
    async countsPerMinute(
      broadcasterId: string,
      from: Date,
      to: Date,
    ): Promise<Array<{ minute: Date; type: string; count: number }>> {
      const rows = await knex('events')
        .select<Array<{ minute: Date; type: string; count: number }>>(
          knex.raw("date_trunc('minute', occurred_at) AS minute"),
          'type',
          knex.raw('count(*)::int AS count'),
        )
        .where('broadcaster_id', broadcasterId)
        .where('occurred_at', '>=', from.toISOString())
        .where('occurred_at', '<', to.toISOString())
        .whereNull('event_time')
        .groupByRaw('1, 2');
      return rows;
    },

    /** Where a stored event is in its feed (seq null: stored before positions were), or null. */
    async positionOf(broadcasterId: string, eventId: string): Promise<FeedAnchor | null> {
      const row = await knex('events')
        .first<{ seq: string | null } | undefined>('seq')
        .where({ broadcaster_id: broadcasterId, id: eventId });
      if (row === undefined) return null;
      return { id: eventId, seq: row.seq === null ? null : Number(row.seq) };
    },

    /**
     * Up to `limit` of a broadcaster's events that came after the event at `afterSeq` (and
     * `afterId`) in its feed, in the order they came (`seq`, then id). Events stored without a
     * position are not among them.
     */
    async listAfter(
      broadcasterId: string,
      afterSeq: number,
      limit: number,
      afterId?: string,
    ): Promise<Array<{ seq: number; event: StreamEvent }>> {
      const query = knex('events')
        .select<Array<EventRow & { seq: string }>>([...EVENT_COLUMNS, 'seq'])
        .where('broadcaster_id', broadcasterId)
        .orderBy([
          { column: 'seq', order: 'asc' },
          { column: 'id', order: 'asc' },
        ])
        .limit(limit);
      // A follow wave's follows share its position: the id orders them, as in listBefore.
      if (afterId === undefined) query.where('seq', '>', afterSeq);
      else query.whereRaw('(seq, id) > (?, ?)', [afterSeq, afterId]);
      const rows = await query;
      return rows.map((row) => ({ seq: Number(row.seq), event: toEvent(row) }));
    },

    /** The feed position stored with an event, or null (unknown, or stored without one). */
    async seqOf(broadcasterId: string, eventId: string): Promise<number | null> {
      const row = await knex('events')
        .first<{ seq: string | null } | undefined>('seq')
        .where({ broadcaster_id: broadcasterId, id: eventId });
      return row?.seq === undefined || row.seq === null ? null : Number(row.seq);
    },

    /** The stored events with these ids, in no particular order. */
    async findByIds(ids: string[]): Promise<StreamEvent[]> {
      if (ids.length === 0) return [];
      const rows = await knex('events').select<EventRow[]>(EVENT_COLUMNS).whereIn('id', ids);
      return rows.map(toEvent);
    },
  };
}

export type EventStore = ReturnType<typeof createEventStore>;
