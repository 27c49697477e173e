import type { Knex } from 'knex';

export interface StreamerRecord {
  id: string;
  login: string;
  displayName: string;
  profileImageUrl: string;
  grantedScopes: string[];
}

/** Streamers, and whether any viewer still wants their events (table `streamers`). */
export function createStreamerStore(knex: Knex) {
  return {
    async upsert(streamer: Omit<StreamerRecord, 'grantedScopes'>): Promise<void> {
      await knex('streamers')
        .insert({
          id: streamer.id,
          login: streamer.login,
          display_name: streamer.displayName,
          profile_image_url: streamer.profileImageUrl,
        })
        .onConflict('id')
        .merge({
          login: streamer.login,
          display_name: streamer.displayName,
          profile_image_url: streamer.profileImageUrl,
          updated_at: knex.fn.now(),
        });
    },

    async find(id: string): Promise<StreamerRecord | null> {
      const row = await knex('streamers').where({ id }).first<
        | {
            id: string;
            login: string;
            display_name: string | null;
            profile_image_url: string | null;
            granted_scopes: string[];
          }
        | undefined
      >();
      return row
        ? {
            id: row.id,
            login: row.login,
            displayName: row.display_name ?? row.login,
            profileImageUrl: row.profile_image_url ?? '',
            grantedScopes: row.granted_scopes,
          }
        : null;
    },

    async setGrantedScopes(id: string, scopes: string[]): Promise<void> {
      await knex('streamers')
        .where({ id })
        .update({ granted_scopes: scopes, updated_at: knex.fn.now() });
    },

    /**
     * Marks streamers nobody has as favourite any more (from now), and returns the ids of those
     * unwanted for longer than `idleMs`: their subscriptions may go.
     */
    async settleUnwanted(idleMs: number): Promise<{ wanted: string[]; expired: string[] }> {
      const fans = knex('users').select(1).whereRaw('users.favorite_streamer_id = streamers.id');
      await knex('streamers')
        .whereNotExists(fans)
        .whereNull('unwanted_since')
        .update({ unwanted_since: knex.fn.now() });
      await knex('streamers')
        .whereExists(fans)
        .whereNotNull('unwanted_since')
        .update({ unwanted_since: null });
      const cutoff = new Date(Date.now() - idleMs);
      const rows = await knex('streamers').select<
        Array<{ id: string; unwanted_since: Date | null }>
      >('id', 'unwanted_since');
      return {
        wanted: rows
          .filter((r) => r.unwanted_since === null || r.unwanted_since > cutoff)
          .map((r) => r.id),
        expired: rows
          .filter((r) => r.unwanted_since !== null && r.unwanted_since <= cutoff)
          .map((r) => r.id),
      };
    },
  };
}
export type StreamerStore = ReturnType<typeof createStreamerStore>;
