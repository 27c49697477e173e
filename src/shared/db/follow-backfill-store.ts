import type { Knex } from 'knex';

/** How a streamer's last follow backfill went (`no_consent`, `no_token`: it could not run). */
export type BackfillStatus = 'done' | 'no_consent' | 'no_token' | 'failed';

export interface BackfillRecord {
  broadcasterId: string;
  status: BackfillStatus;
  /** The start of the gap the run looked into: follows after it were fetched. */
  gapFrom: Date | null;
  /** Follows Helix listed in the gap, and how many of them streamfeed did not hold yet. */
  fetched: number;
  added: number;
  lastError: string | null;
  ranAt: Date;
}

interface Row {
  broadcaster_id: string;
  status: BackfillStatus;
  gap_from: Date | null;
  fetched: number;
  added: number;
  last_error: string | null;
  ran_at: Date;
}

/** What the follow backfill reads and records in PostgreSQL (`follow_backfills`, `events`). */
export function createFollowBackfillStore(knex: Knex) {
  return {
    async record(run: Omit<BackfillRecord, 'ranAt'>): Promise<void> {
      const row = {
        broadcaster_id: run.broadcasterId,
        status: run.status,
        gap_from: run.gapFrom,
        fetched: run.fetched,
        added: run.added,
        last_error: run.lastError,
        ran_at: knex.fn.now(),
      };
      await knex('follow_backfills').insert(row).onConflict('broadcaster_id').merge();
    },

    async find(broadcasterId: string): Promise<BackfillRecord | null> {
      const row = await knex<Row>('follow_backfills')
        .where({ broadcaster_id: broadcasterId })
        .first();
      return row
        ? {
            broadcasterId: row.broadcaster_id,
            status: row.status,
            gapFrom: row.gap_from,
            fetched: row.fetched,
            added: row.added,
            lastError: row.last_error,
            ranAt: row.ran_at,
          }
        : null;
    },

    /**
     * Where streamfeed's hearing of a streamer's follows may have stopped: the newest follow it
     * holds; before any, when it first subscribed to them (null: it never did). `notBefore`
     * bounds the look-back and lets PostgreSQL skip older partitions.
     */
    async lastHeard(broadcasterId: string, notBefore: Date): Promise<Date | null> {
      const newest = await knex('events')
        .where({ broadcaster_id: broadcasterId, type: 'channel.follow' })
        .where('occurred_at', '>=', notBefore)
        .max<{ max: Date | null }>('occurred_at as max')
        .first();
      if (newest?.max) return newest.max;
      const subscribed = await knex('eventsub_subscriptions')
        .where({ broadcaster_id: broadcasterId, type: 'channel.follow' })
        .min<{ min: Date | null }>('created_at as min')
        .first();
      return subscribed?.min ?? null;
    },

    /** Ids of the streamer's follows stored from `since` on. */
    async followIdsSince(broadcasterId: string, since: Date): Promise<Set<string>> {
      const ids = await knex('events')
        .where({ broadcaster_id: broadcasterId, type: 'channel.follow' })
        .where('occurred_at', '>=', since)
        .pluck<string[]>('id');
      return new Set(ids);
    },

    /** Streamers whose grant lets streamfeed list their followers. */
    async consenting(scope: string): Promise<string[]> {
      return knex('streamers').whereRaw('? = ANY(granted_scopes)', [scope]).pluck<string[]>('id');
    },
  };
}
export type FollowBackfillStore = ReturnType<typeof createFollowBackfillStore>;
