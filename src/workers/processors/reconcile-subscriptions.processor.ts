import type { Queue } from 'bullmq';
import { queueEnsureSubscriptions } from '../../shared/subscription-jobs.js';
import { subscriptionKey } from '../../shared/twitch/subscription-plan.js';
import type { SubscriptionDeps } from './ensure-subscriptions.processor.js';

export interface ReconcileDeps extends SubscriptionDeps {
  subscriptionsQueue: Queue;
  /** How long a streamer nobody has as favourite keeps its subscriptions. */
  idleMs: number;
}

export interface ReconcileSummary {
  remote: number;
  deleted: number;
  adopted: number;
  ensured: number;
  forgotten: number;
}

const LIVE = new Set(['enabled', 'webhook_callback_verification_pending']);
const broadcasterOf = (condition: Record<string, string>) =>
  condition.broadcaster_user_id ??
  condition.to_broadcaster_user_id ??
  condition.from_broadcaster_user_id;

/**
 * Compares streamfeed's records with Twitch's list and repairs both sides: deletes what nobody
 * needs or what Twitch stopped delivering, adopts what Twitch has that the records lack, and
 * re-ensures every wanted streamer so that revoked or missing subscriptions come back.
 */
export function createReconcileSubscriptionsProcessor(deps: ReconcileDeps) {
  return async function reconcileSubscriptions(): Promise<ReconcileSummary> {
    const { wanted, expired } = await deps.streamers.settleUnwanted(deps.idleMs);
    const wantedSet = new Set(wanted);
    const local = await deps.subscriptions.all();
    const localByKey = new Map(local.map((r) => [subscriptionKey(r), r]));
    const remote = (await deps.helix.listSubscriptions()).filter(
      (s) => s.transport.callback === deps.callbackUrl,
    );
    const remoteLive = new Set(remote.filter((s) => LIVE.has(s.status)).map((s) => s.id));
    const expiredSet = new Set(expired);
    const summary: ReconcileSummary = {
      remote: remote.length,
      deleted: 0,
      adopted: 0,
      ensured: 0,
      forgotten: 0,
    };
    const seen = new Set<string>();

    for (const sub of remote) {
      const key = subscriptionKey(sub);
      const broadcasterId = broadcasterOf(sub.condition);
      const record = localByKey.get(key);
      if (
        !broadcasterId ||
        !wantedSet.has(broadcasterId) ||
        !LIVE.has(sub.status) ||
        (record?.twitchId && record.twitchId !== sub.id && remoteLive.has(record.twitchId))
      ) {
        await deps.helix.deleteSubscription(sub.id);
        summary.deleted++;
        continue;
      }
      seen.add(key);
      if (!record || record.twitchId !== sub.id || record.status !== sub.status) {
        await deps.subscriptions.save(broadcasterId, sub, { twitchId: sub.id, status: sub.status });
        summary.adopted++;
      }
    }
    for (const record of local) {
      if (seen.has(subscriptionKey(record))) continue;
      if (expiredSet.has(record.broadcasterId)) {
        await deps.subscriptions.remove(record.id);
        summary.forgotten++;
      } else if (LIVE.has(record.status)) {
        // Twitch no longer has it: record that, so the ensure below creates it again.
        await deps.subscriptions.save(record.broadcasterId, record, {
          twitchId: null,
          status: 'missing',
        });
      }
    }
    for (const broadcasterId of wanted) {
      await queueEnsureSubscriptions(deps.subscriptionsQueue, broadcasterId, { by: 'reconcile' });
      summary.ensured++;
    }
    deps.log.info(
      summary,
      `Reconciled subscriptions: ${summary.deleted} deleted, ${summary.adopted} adopted, ${summary.ensured} streamers re-ensured`,
    );
    return summary;
  };
}
