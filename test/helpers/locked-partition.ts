import type { Knex } from 'knex';
import { ensurePartition, partitionName } from '../../src/shared/db/partitions.js';
import type { StreamEvent } from '../../src/shared/events/event.js';

/**
 * Holds an exclusive lock on the `events` partition of `month`, as a long maintenance transaction
 * would: inserts into that month wait (and time out), other months go on. Roll back to release.
 */
export async function lockEventPartition(knex: Knex, month: Date): Promise<Knex.Transaction> {
  await ensurePartition(knex, month);
  const lock = await knex.transaction();
  await lock.raw(`LOCK TABLE ${partitionName(month)} IN ACCESS EXCLUSIVE MODE`);
  return lock;
}

/** A follow event that falls `offsetMs` into `month`, for a persist job aimed at that month. */
export function followEventIn(
  month: Date,
  offsetMs: number,
  ids: { eventId: string; broadcasterId: string; userId: string },
): StreamEvent {
  return {
    id: ids.eventId,
    type: 'channel.follow',
    broadcasterId: ids.broadcasterId,
    broadcasterLogin: `streamer_${ids.broadcasterId}`,
    broadcasterName: `Streamer_${ids.broadcasterId}`,
    occurredAt: new Date(month.getTime() + offsetMs).toISOString(),
    actor: { id: ids.userId, login: `fan_${ids.userId}`, name: `Fan_${ids.userId}` },
    summary: `Fan_${ids.userId} followed`,
    data: {},
  };
}
