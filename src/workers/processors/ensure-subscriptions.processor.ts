import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from '../../shared/logger.js';
import type { SubscriptionStore } from '../../shared/db/subscription-store.js';
import type { StreamerStore } from '../../shared/db/streamer-store.js';
import { TwitchApiError, type HelixClient } from '../../shared/twitch/helix-client.js';
import { plannedSubscriptions, subscriptionKey } from '../../shared/twitch/subscription-plan.js';
import type { EnsureSubscriptionsJob } from '../../shared/queues.js';

export interface SubscriptionDeps {
  helix: HelixClient;
  subscriptions: SubscriptionStore;
  streamers: StreamerStore;
  callbackUrl: string;
  secret: string;
  log: Logger;
  /**
   * A follow subscription that had stopped (revoked, failed, missing on Twitch) was created
   * again: streamfeed could not hear follows meanwhile, so a backfill should fetch them.
   */
  onFollowsResubscribed?: (broadcasterId: string) => Promise<void>;
}

const LIVE = new Set(['enabled', 'webhook_callback_verification_pending']);

/**
 * Makes sure one streamer's shared subscriptions exist on Twitch. Idempotent: what exists is
 * left alone, 409 counts as success, and a type Twitch refuses (400/403) is recorded as failed
 * with Twitch's reason instead of being retried forever.
 */
export function createEnsureSubscriptionsProcessor(deps: SubscriptionDeps) {
  return async function ensureSubscriptions(
    job: Job<EnsureSubscriptionsJob>,
  ): Promise<{ created: number; failed: number }> {
    const { broadcasterId } = job.data;
    const streamer = await deps.streamers.find(broadcasterId);
    if (!streamer) throw new UnrecoverableError(`No streamer ${broadcasterId} to subscribe to`);
    const existing = new Map(
      (await deps.subscriptions.forBroadcaster(broadcasterId)).map((r) => [subscriptionKey(r), r]),
    );
    let created = 0;
    let failed = 0;
    for (const planned of plannedSubscriptions(broadcasterId, streamer.grantedScopes)) {
      const record = existing.get(subscriptionKey(planned));
      if (record && LIVE.has(record.status)) continue;
      try {
        const result = await deps.helix.createSubscription(planned, deps.callbackUrl, deps.secret);
        await deps.subscriptions.save(
          broadcasterId,
          planned,
          result.subscription
            ? { twitchId: result.subscription.id, status: result.subscription.status }
            : { status: 'enabled' },
        );
        if (result.created) created++;
        if (result.created && record && planned.type === 'channel.follow') {
          await deps.onFollowsResubscribed?.(broadcasterId);
        }
      } catch (error) {
        // 400/403: Twitch refuses this type; 429 with tokens left: the cost budget is spent.
        // Retrying now would not help; reconciliation tries again later.
        if (!(error instanceof TwitchApiError) || ![400, 403, 429].includes(error.status)) {
          throw error;
        }
        failed++;
        await deps.subscriptions.save(broadcasterId, planned, {
          status: 'failed',
          lastError: error.message,
        });
        deps.log.warn(
          { broadcasterId, type: planned.type, status: error.status },
          `Twitch refused ${planned.type} for streamer ${broadcasterId}: ${error.message}`,
        );
      }
    }
    deps.log.info(
      { broadcasterId, created, failed },
      `Subscriptions for streamer ${broadcasterId}: ${created} created, ${failed} refused`,
    );
    return { created, failed };
  };
}
