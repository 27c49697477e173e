import { createHash } from 'node:crypto';
import type { Job } from 'bullmq';
import type { Logger } from '../../shared/logger.js';
import type { StoredUserToken, UserTokens } from '../../shared/auth/user-tokens.js';
import type { StreamerRecord, StreamerStore } from '../../shared/db/streamer-store.js';
import type { BackfillStatus, FollowBackfillStore } from '../../shared/db/follow-backfill-store.js';
import { FOLLOWERS_SCOPE } from '../../shared/backfill-jobs.js';
import { followEventId } from '../../shared/events/event-identity.js';
import { TwitchApiError } from '../../shared/twitch/helix-client.js';
import type { HelixFollower, HelixFollowers } from '../../shared/twitch/helix-followers.js';
import type { BackfillFollowsJob, EventSubCallbackJob } from '../../shared/queues.js';

export interface BackfillDeps {
  streamers: Pick<StreamerStore, 'find'>;
  store: FollowBackfillStore;
  tokens: Pick<UserTokens, 'get' | 'update'>;
  /** A Helix followers client acting with this streamer's token. */
  followersWith: (
    token: StoredUserToken,
    save: (t: StoredUserToken) => Promise<void>,
  ) => HelixFollowers;
  /** Adds a callback job to the streamer's shard of the callbacks queue, under `jobId`. */
  queueCallback: (broadcasterId: string, job: EventSubCallbackJob, jobId: string) => Promise<void>;
  maxFollows: number;
  maxAgeMs: number;
  log: Logger;
  now?: () => number;
}

export interface BackfillOutcome {
  status: BackfillStatus;
  fetched: number;
  added: number;
}

const PAGE = 100;
const sha = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);
const wholeSecond = (ms: number) => ms - (((ms % 1000) + 1000) % 1000);

/** The EventSub body of a batch of follows, as a `channel.follow` v2 notification has them. */
function callbackBody(streamer: StreamerRecord, follows: HelixFollower[]): string {
  const channel = {
    broadcaster_user_id: streamer.id,
    broadcaster_user_login: streamer.login,
    broadcaster_user_name: streamer.displayName,
  };
  return JSON.stringify({
    subscription: {
      id: `backfill-${streamer.id}`,
      type: 'channel.follow',
      version: '2',
      status: 'enabled',
      condition: { broadcaster_user_id: streamer.id, moderator_user_id: streamer.id },
    },
    events: follows.map((f) => ({
      data: {
        user_id: f.user_id,
        user_login: f.user_login,
        user_name: f.user_name,
        ...channel,
        followed_at: f.followed_at,
      },
    })),
  });
}

/**
 * Fetches the follows a streamer had while streamfeed could not hear them, and hands them to the
 * processor's own path as one callback job (so they get their feed positions, cache entry,
 * notification and row as live follows do, in `followed_at` order, once each). The gap starts at
 * the newest follow streamfeed holds for the streamer (or, with none yet, when it first
 * subscribed to their follows), at most `maxAgeMs` back. Follows it already holds, under the id
 * a live one has (followEventId), are left out; one that arrives live later is a duplicate of
 * the backfilled event and is dropped by the feed cache.
 */
export function createBackfillFollowsProcessor(deps: BackfillDeps) {
  const now = deps.now ?? Date.now;
  return async function backfillFollows(job: Job<BackfillFollowsJob>): Promise<BackfillOutcome> {
    const { broadcasterId, reason } = job.data;
    const log = deps.log.child({ jobId: job.id, broadcasterId });
    const record = async (
      outcome: BackfillOutcome,
      gapFrom: Date | null,
      lastError: string | null,
    ) => {
      await deps.store.record({ broadcasterId, gapFrom, lastError, ...outcome });
      return outcome;
    };
    const streamer = await deps.streamers.find(broadcasterId);
    if (!streamer) return { status: 'no_consent', fetched: 0, added: 0 };
    if (!streamer.grantedScopes.includes(FOLLOWERS_SCOPE)) {
      log.info(
        `No follow backfill for streamer ${broadcasterId}: they did not grant ${FOLLOWERS_SCOPE}`,
      );
      return record({ status: 'no_consent', fetched: 0, added: 0 }, null, null);
    }
    const token = await deps.tokens.get(broadcasterId);
    if (!token) {
      log.info(
        `No follow backfill for streamer ${broadcasterId}: streamfeed holds no token of theirs`,
      );
      return record({ status: 'no_token', fetched: 0, added: 0 }, null, null);
    }
    const notBefore = new Date(now() - deps.maxAgeMs);
    const heard = await deps.store.lastHeard(broadcasterId, notBefore);
    if (!heard) return record({ status: 'done', fetched: 0, added: 0 }, null, null);
    // Helix gives follow times to the second: look from the second of the newest one held.
    const gapFrom = new Date(wholeSecond(Math.max(heard.getTime(), notBefore.getTime())));

    const helix = deps.followersWith(token, (t) => deps.tokens.update(broadcasterId, t));
    const inGap: HelixFollower[] = [];
    let cursor: string | undefined;
    try {
      let first = true;
      do {
        const page = await helix.page(broadcasterId, PAGE, cursor);
        // Without the scope Helix still answers 200, with only `total` (PROTOCOL.md section 9).
        if (first && page.data.length === 0 && page.total > 0) {
          log.warn(
            `No follow backfill for streamer ${broadcasterId}: their token lacks ${FOLLOWERS_SCOPE}`,
          );
          return await record({ status: 'no_consent', fetched: 0, added: 0 }, gapFrom, null);
        }
        first = false;
        const older = page.data.findIndex((f) => Date.parse(f.followed_at) < gapFrom.getTime());
        inGap.push(...(older === -1 ? page.data : page.data.slice(0, older)));
        cursor = older === -1 && inGap.length < deps.maxFollows ? page.cursor : undefined;
      } while (cursor);
    } catch (error) {
      if (error instanceof TwitchApiError && error.status === 401) {
        return record({ status: 'no_token', fetched: 0, added: 0 }, gapFrom, error.message);
      }
      await record({ status: 'failed', fetched: 0, added: 0 }, gapFrom, (error as Error).message);
      throw error;
    }

    const held = await deps.store.followIdsSince(broadcasterId, gapFrom);
    const seen = new Set<string>();
    const missed: HelixFollower[] = [];
    // Newest first from Helix; a page boundary that moved while paging can repeat one.
    for (const follow of inGap.slice(0, deps.maxFollows).reverse()) {
      const id = followEventId(broadcasterId, follow.user_id, follow.followed_at);
      if (held.has(id) || seen.has(id)) continue;
      seen.add(id);
      missed.push(follow);
    }
    if (missed.length > 0) {
      const messageId = `backfill-${broadcasterId}-${sha([...seen].join(','))}`;
      await deps.queueCallback(
        broadcasterId,
        {
          messageId,
          messageType: 'notification',
          messageTimestamp: new Date(now()).toISOString(),
          messageRetry: null,
          subscriptionType: 'channel.follow',
          subscriptionVersion: '2',
          body: callbackBody(streamer, missed),
          receivedAt: now(),
          backfilled: true,
        },
        `b-${sha(messageId)}`,
      );
    }
    log.info(
      { reason, fetched: inGap.length, added: missed.length, gapFrom: gapFrom.toISOString() },
      `Backfilled ${missed.length} follow(s) of streamer ${broadcasterId} since ${gapFrom.toISOString()} (${reason}; Helix listed ${inGap.length})`,
    );
    return record({ status: 'done', fetched: inGap.length, added: missed.length }, gapFrom, null);
  };
}
