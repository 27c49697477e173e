import type { Knex } from 'knex';
import type { Actor, StreamEvent } from '../events/event.js';
import { ensurePartition, isPartitionable, monthStart } from './partitions.js';
import { FOLLOW_WAVE_TYPE } from '../feed/follow-waves.js';

interface EventRow {
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
}

const COLUMNS: string[] = [
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

function toEvent(row: EventRow): StreamEvent {
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

function isMissingPartition(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    code === '23514' && typeof message === 'string' && message.includes('no partition of relation')
  );
}

const waveCount = (value: { data: string }): number =>
  Number((JSON.parse(value.data) as { count?: unknown }).count ?? 0);

/** The `events` table: every stored event, partitioned by month of `occurred_at`. */
export function createEventStore(knex: Knex) {
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
      let values = rows.map(({ event, messageId, seq }) => {
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
        const inserted = plain.length
          ? await knex('events').insert(plain).onConflict().ignore().returning('id')
          : [];
        const waves = latestWaves.size
          ? await knex('events')
              .insert([...latestWaves.values()])
              .onConflict(['id', 'occurred_at'])
              .merge(['summary', 'data'])
              .whereRaw("(events.data->>'count')::int < (excluded.data->>'count')::int")
              .returning('id')
          : [];
        return inserted.length + waves.length;
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
     * A `before` that names no stored event of that position gives an empty page.
     */
    async listBefore(
      broadcasterId: string,
      limit: number,
      before?: FeedAnchor,
    ): Promise<PositionedEvent[]> {
      const page: PositionedEvent[] = [];
      if (before === undefined || before.seq !== null) {
        const query = knex('events')
          .select<Array<EventRow & { seq: string }>>([...COLUMNS, 'seq'])
          .where('broadcaster_id', broadcasterId)
          .whereNotNull('seq')
          .orderBy([
            { column: 'seq', order: 'desc' },
            { column: 'id', order: 'desc' },
          ])
          .limit(limit);
        if (before) query.whereRaw('(seq, id) < (?, ?)', [before.seq, before.id]);
        for (const row of await query) page.push({ seq: Number(row.seq), event: toEvent(row) });
      }
      if (page.length === limit) return page;
      const unpositioned = knex('events')
        .select<EventRow[]>(COLUMNS)
        .where('broadcaster_id', broadcasterId)
        .whereNull('seq')
        .orderBy([
          { column: 'received_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .limit(limit - page.length);
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
        .select<Array<EventRow & { seq: string }>>([...COLUMNS, 'seq'])
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
      const rows = await knex('events').select<EventRow[]>(COLUMNS).whereIn('id', ids);
      return rows.map(toEvent);
    },
  };
}

export type EventStore = ReturnType<typeof createEventStore>;
