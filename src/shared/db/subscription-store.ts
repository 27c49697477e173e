import type { Knex } from 'knex';
import type { NewSubscription } from '../twitch/helix-client.js';

export interface SubscriptionRecord extends NewSubscription {
  id: string;
  twitchId: string | null;
  broadcasterId: string;
  status: string;
  lastError: string | null;
}

interface Row {
  id: string;
  twitch_id: string | null;
  broadcaster_id: string;
  type: string;
  version: string;
  condition: Record<string, string>;
  status: string;
  last_error: string | null;
}

const toRecord = (row: Row): SubscriptionRecord => ({
  id: String(row.id),
  twitchId: row.twitch_id,
  broadcasterId: row.broadcaster_id,
  type: row.type,
  version: row.version,
  condition: row.condition,
  status: row.status,
  lastError: row.last_error,
});

/** streamfeed's record of its EventSub subscriptions (table `eventsub_subscriptions`). */
export function createSubscriptionStore(knex: Knex) {
  return {
    /** Records Twitch's revocation reason; unknown subscription ids change nothing. */
    async markRevoked(twitchSubscriptionId: string, status: string): Promise<void> {
      await knex('eventsub_subscriptions')
        .where({ twitch_id: twitchSubscriptionId })
        .update({ status, last_error: `revoked by Twitch: ${status}`, updated_at: knex.fn.now() });
    },

    async forBroadcaster(broadcasterId: string): Promise<SubscriptionRecord[]> {
      return (
        await knex<Row>('eventsub_subscriptions').where({ broadcaster_id: broadcasterId })
      ).map(toRecord);
    },

    async all(): Promise<SubscriptionRecord[]> {
      return (await knex<Row>('eventsub_subscriptions').select()).map(toRecord);
    },

    /** Inserts or updates the record of one type + version + condition. */
    async save(
      broadcasterId: string,
      sub: NewSubscription,
      fields: { twitchId?: string | null; status: string; lastError?: string | null },
    ): Promise<void> {
      await knex('eventsub_subscriptions')
        .insert({
          broadcaster_id: broadcasterId,
          type: sub.type,
          version: sub.version,
          condition: JSON.stringify(sub.condition),
          status: fields.status,
          last_error: fields.lastError ?? null,
          ...(fields.twitchId !== undefined ? { twitch_id: fields.twitchId } : {}),
        })
        .onConflict(['type', 'version', 'condition'])
        .merge({
          status: fields.status,
          last_error: fields.lastError ?? null,
          updated_at: knex.fn.now(),
          ...(fields.twitchId !== undefined ? { twitch_id: fields.twitchId } : {}),
        });
    },

    async remove(id: string): Promise<void> {
      await knex('eventsub_subscriptions').where({ id }).delete();
    },
  };
}
export type SubscriptionStore = ReturnType<typeof createSubscriptionStore>;
