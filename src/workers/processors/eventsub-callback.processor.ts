import { processedMessageKey } from '../../shared/events/processed-messages.js';
import { UnrecoverableError, type Job } from 'bullmq';
import { z } from 'zod';
import type { ProcessorMetrics } from '../pipeline-metrics.js';
import type { Logger } from '../../shared/logger.js';
import type { AppendResult, FeedCache } from '../../shared/feed/feed-cache.js';
import { feedKeys } from '../../shared/feed/feed-keys.js';
import type { IdentifyEvent } from '../../shared/events/event-identity.js';
import type { EventDraft } from '../../shared/events/event.js';
import { normalizeEvent } from '../../shared/events/normalize.js';
import { sanitizeText } from '../../shared/events/sanitize.js';
import type { RedisClient } from '../../shared/connections/redis.js';
import type {
  EventSubCallbackJob,
  FeedNotification,
  FlushFollowWaveJob,
  PersistEventJob,
} from '../../shared/queues.js';
import type { FollowDecision, FollowWaves } from '../../shared/feed/follow-waves.js';

const subscriptionSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  version: z.string().min(1),
  status: z.string().optional(),
  condition: z.record(z.string(), z.unknown()),
});
const bodySchema = z.object({
  subscription: subscriptionSchema,
  event: z.record(z.string(), z.unknown()).optional(),
  events: z.array(z.object({ data: z.record(z.string(), z.unknown()) })).optional(),
});

export interface SubscriptionRevocations {
  markRevoked(twitchSubscriptionId: string, status: string): Promise<void>;
}

export interface EventSubCallbackDeps {
  redis: RedisClient;
  prefix: string;
  dedupeWindowSeconds: number;
  identify: IdentifyEvent;
  cache: FeedCache;
  /** REDIS_ACK_REPLICAS: resolves once replicas have the writes to the key's master so far. */
  confirmReplicated?: (key: string) => Promise<void>;
  /** Resolve once the notification, or the event to store, is safely queued (replicated too). */
  queueNotification: (notification: FeedNotification) => Promise<void>;
  queuePersist: (row: PersistEventJob) => Promise<void>;
  /** Follow waves (off without): decides whether a follow is a row or part of a wave. */
  waves?: FollowWaves;
  /** Queues a wave's trailing update for `at` (ms); one job per wave and time. */
  queueWaveFlush?: (job: FlushFollowWaveJob, at: number) => Promise<void>;
  revocations: SubscriptionRevocations;
  /** Ends a viewer's login sessions when they revoke streamfeed's access on Twitch. */
  endUserSessions: (userId: string) => Promise<unknown>;
  log: Logger;
  metrics?: ProcessorMetrics;
}

export interface CallbackOutcome {
  duplicate: boolean;
  events: string[];
}

/** Pure parsing; anything it throws is the payload's fault, so retrying cannot help. */
function parseCallback(data: EventSubCallbackJob) {
  try {
    const body = bodySchema.parse(JSON.parse(data.body));
    if (data.messageType === 'revocation') return { subscription: body.subscription, drafts: [] };
    const raws = body.event ? [body.event] : (body.events ?? []).map((e) => e.data);
    if (raws.length === 0) throw new Error('notification has no event');
    const drafts = raws.map((raw) => {
      const draft = sanitizeText(normalizeEvent(body.subscription, raw, data.messageTimestamp));
      return { raw, draft: data.backfilled ? { ...draft, backfilled: true as const } : draft };
    });
    return { subscription: body.subscription, drafts };
  } catch (error) {
    const reason = error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message;
    throw new UnrecoverableError(
      `Unusable EventSub ${data.messageType} ${data.messageId}: ${reason}`,
    );
  }
}

/**
 * Raw callback -> deduped, cached event -> notification and persistence jobs. Every step is
 * idempotent, so a retry after a crash at any point yields one event and one notification.
 */
export function createEventSubCallbackProcessor(deps: EventSubCallbackDeps) {
  return async function processEventSubCallback(
    job: Job<EventSubCallbackJob>,
  ): Promise<CallbackOutcome> {
    const data = job.data;
    const log = deps.log.child({ jobId: job.id, msgId: data.messageId });
    const doneKey = processedMessageKey(deps.prefix, data.messageId);
    if ((await deps.redis.exists(doneKey)) === 1) {
      log.info(`Skipped EventSub message ${data.messageId}: already processed`);
      deps.metrics?.duplicate('message');
      return { duplicate: true, events: [] };
    }

    const { subscription, drafts } = parseCallback(data);
    if (data.messageType === 'revocation') {
      const status = subscription.status ?? 'revoked';
      await deps.revocations.markRevoked(subscription.id, status);
      log.warn(
        { subscriptionId: subscription.id, status },
        `Twitch revoked subscription ${subscription.id} (${subscription.type}): ${status}`,
      );
    }

    if (subscription.type === 'user.authorization.revoke') {
      for (const { raw } of drafts) {
        if (typeof raw.user_id === 'string') await deps.endUserSessions(raw.user_id);
      }
    }
    const events: string[] = [];
    for (const { raw, draft } of drafts) {
      const eventId = await publish(raw, draft, data, log);
      if (eventId) events.push(eventId);
    }
    await deps.redis.set(doneKey, '1', 'EX', deps.dedupeWindowSeconds);
    return { duplicate: drafts.length > 0 && events.length === 0, events };
  };

  async function publish(
    raw: Record<string, unknown>,
    draft: EventDraft,
    data: EventSubCallbackJob,
    log: Logger,
  ): Promise<string | null> {
    const identity = await deps.identify({
      broadcasterId: draft.broadcasterId,
      type: draft.type,
      event: raw,
      messageId: data.messageId,
    });
    if (identity.duplicateContent) {
      log.info(
        { eventId: identity.id },
        `Skipped re-sent ${draft.type} event ${identity.id} (new message id ${data.messageId})`,
      );
      deps.metrics?.duplicate('content');
      return null;
    }
    const draftEvent = { id: identity.id, ...draft };
    let appended: AppendResult;
    // Backfilled follows are history from a downtime, fetched at once: a burst by arrival, not by
    // when they happened, and each is what the streamer asked to see. They never make a wave.
    if (deps.waves && draft.type === 'channel.follow' && !draft.backfilled) {
      // A live follow comes back appended: decided and appended in one script, so a wave that
      // another processor opens meanwhile can never come below it.
      const decision = await deps.waves.take(draftEvent, data.messageId);
      if (decision.kind === 'absorbed') return takeIntoWave(decision, data, log);
      appended = decision;
    } else {
      appended = await deps.cache.append(draftEvent, data.messageId);
    }
    // Another message delivered this event first; only its own retries may re-notify.
    if (!appended.created && appended.messageId !== data.messageId) {
      log.info({ eventId: identity.id }, `Skipped duplicate ${draft.type} event ${identity.id}`);
      deps.metrics?.duplicate('event');
      return null;
    }
    const { event, seq } = appended;
    // REDIS_ACK_REPLICAS: nothing is announced under a number that a failover could hand out
    // again. Too few replicas fail the job, and its retry finds the entry and goes on from it.
    await deps.confirmReplicated?.(feedKeys(deps.prefix, event.broadcasterId).seq);
    await Promise.all([
      deps.queueNotification({
        broadcasterId: event.broadcasterId,
        seq,
        event,
        sentAt: data.messageTimestamp,
      }),
      deps.queuePersist({ event, messageId: data.messageId, seq }),
    ]);
    deps.metrics?.processed(event.type);
    log.info(
      { eventId: event.id, seq, type: event.type, broadcasterId: event.broadcasterId },
      `Processed ${event.type} event ${event.id} for streamer ${event.broadcasterId} (seq ${seq})`,
    );
    return event.id;
  }

  /**
   * A follow taken into a wave: stored with the wave's position, never announced as a row. The
   * wave entry is announced when it opens and re-sent as an update at most once a second; a
   * retry sends both again (a node drops what it has) and makes sure of a trailing update.
   */
  async function takeIntoWave(
    decision: Extract<FollowDecision, { kind: 'absorbed' }>,
    data: EventSubCallbackJob,
    log: Logger,
  ): Promise<string | null> {
    const { follow, wave, seq, action, created } = decision;
    if (!created && decision.messageId !== data.messageId) {
      log.info({ eventId: follow.id }, `Skipped duplicate follow ${follow.id} (in a wave)`);
      deps.metrics?.duplicate('event');
      return null;
    }
    const { broadcasterId } = follow;
    await deps.confirmReplicated?.(feedKeys(deps.prefix, broadcasterId).seq);
    const work: Array<Promise<void>> = [
      deps.queuePersist({ event: follow, messageId: data.messageId, seq }),
    ];
    if (wave) {
      work.push(deps.queuePersist({ event: wave, messageId: null, seq }));
      if (action === 'opened' || !created) {
        work.push(
          deps.queueNotification({
            broadcasterId,
            seq,
            event: wave,
            sentAt: data.messageTimestamp,
          }),
        );
      }
      if (action === 'publish' || !created) {
        work.push(deps.queueNotification({ broadcasterId, seq, updated: wave }));
      }
      if (action === 'schedule' || !created) {
        const at = created ? decision.flushAt : Date.now() + 1000;
        work.push(
          deps.queueWaveFlush?.({ broadcasterId, waveId: wave.id }, at) ?? Promise.resolve(),
        );
      }
    }
    await Promise.all(work);
    deps.metrics?.processed(follow.type);
    log.info(
      { eventId: follow.id, seq, waveId: follow.data.waveId, broadcasterId, action },
      `Took follow ${follow.id} into wave ${String(follow.data.waveId)} of streamer ${broadcasterId} (seq ${seq}, ${action})`,
    );
    return follow.id;
  }
}
