import type { Knex } from 'knex';
import { isEventKind, type EventKind } from '../events/event-kinds.js';

export interface Streamer {
  id: string;
  login: string;
  displayName: string;
  profileImageUrl: string;
}

/** What a viewer chose for the event page, on every device they use. */
export interface ViewerPreferences {
  /** The kinds of event the page leaves out; none by default. */
  hiddenKinds: EventKind[];
}

export interface Viewer extends Streamer {
  favorite: Streamer | null;
  preferences: ViewerPreferences;
}

// A kind a later version dropped is no longer a choice: it is left out, not shown as unknown.
const knownKinds = (stored: string[] | null): EventKind[] => (stored ?? []).filter(isEventKind);

/** Viewers who logged in, and the streamer each has as favourite (table `users`). */
export function createUserStore(knex: Knex) {
  return {
    async save(user: Streamer): Promise<void> {
      await knex('users')
        .insert({
          id: user.id,
          login: user.login,
          display_name: user.displayName,
          profile_image_url: user.profileImageUrl,
        })
        .onConflict('id')
        .merge({
          login: user.login,
          display_name: user.displayName,
          profile_image_url: user.profileImageUrl,
          updated_at: knex.fn.now(),
        });
    },

    async setFavorite(userId: string, streamerId: string): Promise<void> {
      await knex.transaction(async (trx) => {
        await trx('users').where({ id: userId }).update({
          favorite_streamer_id: streamerId,
          favorite_set_at: trx.fn.now(),
          updated_at: trx.fn.now(),
        });
        // Wanted again: its subscriptions must not be pruned.
        await trx('streamers').where({ id: streamerId }).update({ unwanted_since: null });
      });
    },

    /** Replaces the viewer's preferences; false when there is no such viewer. */
    async setPreferences(userId: string, preferences: ViewerPreferences): Promise<boolean> {
      const updated = await knex('users')
        .where({ id: userId })
        .update({ hidden_event_kinds: preferences.hiddenKinds, updated_at: knex.fn.now() });
      return updated === 1;
    },

    async find(userId: string): Promise<Viewer | null> {
      const row = await knex('users as u')
        .leftJoin('streamers as s', 's.id', 'u.favorite_streamer_id')
        .where('u.id', userId)
        .first<
          | {
              id: string;
              login: string;
              display_name: string | null;
              profile_image_url: string | null;
              hidden_event_kinds: string[] | null;
              s_id: string | null;
              s_login: string | null;
              s_display_name: string | null;
              s_profile_image_url: string | null;
            }
          | undefined
        >(
          'u.id',
          'u.login',
          'u.display_name',
          'u.profile_image_url',
          'u.hidden_event_kinds',
          's.id as s_id',
          's.login as s_login',
          's.display_name as s_display_name',
          's.profile_image_url as s_profile_image_url',
        );
      if (!row) return null;
      return {
        id: row.id,
        login: row.login,
        displayName: row.display_name ?? row.login,
        profileImageUrl: row.profile_image_url ?? '',
        favorite: row.s_id
          ? {
              id: row.s_id,
              login: row.s_login ?? row.s_id,
              displayName: row.s_display_name ?? row.s_login ?? row.s_id,
              profileImageUrl: row.s_profile_image_url ?? '',
            }
          : null,
        preferences: { hiddenKinds: knownKinds(row.hidden_event_kinds) },
      };
    },
  };
}
export type UserStore = ReturnType<typeof createUserStore>;
