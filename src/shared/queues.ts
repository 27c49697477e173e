import { Queue, type JobsOptions, type ConnectionOptions } from 'bullmq';
import type { StreamEvent } from './events/event.js';
import calculateSlot from 'cluster-key-slot';
import { colocatedShard, placedTag } from './queue-slots.js';

/**
 * The kinds of queue: camelCase, as BullMQ forbids ':' in names. In Redis each kind is one or
 * more BullMQ queues with names of their own (queueShardName).
 */
export const QUEUES = {
  callbacks: 'twitchCallbacks',
  persist: 'eventPersist',
  notifications: 'eventNotifications',
  maintenance: 'maintenance',
  subscriptions: 'eventSubSubscriptions',
  backfill: 'followBackfill',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const JOBS = {
  eventSubCallback: 'eventsub-callback',
  persistEvents: 'persist-events',
  notifyEvents: 'notify-events',
  /** One event per job, as queued before batching; still handled so that none is stranded. */
  persistEvent: 'persist-event',
  notifyEvent: 'notify-event',
  /** A follow wave's trailing update: its latest state, a second after the last one sent. */
  flushFollowWave: 'flush-follow-wave',
  maintainPartitions: 'maintain-partitions',
  ensureSubscriptions: 'ensure-subscriptions',
  reconcileSubscriptions: 'reconcile-subscriptions',
  backfillFollows: 'backfill-follows',
} as const;
export type JobName = (typeof JOBS)[keyof typeof JOBS];

/** A verified EventSub callback exactly as received; the processor does all the rest. */
export interface EventSubCallbackJob {
  messageId: string;
  messageType: 'notification' | 'revocation';
  messageTimestamp: string;
  messageRetry: string | null;
  subscriptionType: string | null;
  subscriptionVersion: string | null;
  /** The raw body, untouched, so that a failure can be inspected byte for byte. */
  body: string;
  receivedAt: number;
  /** Follows fetched from Helix by a backfill (never set by web): their Events say so. */
  backfilled?: boolean;
}

export interface PersistEventJob {
  event: StreamEvent;
  messageId: string | null;
  /** The event's position in its streamer's feed; absent in jobs queued before it was stored. */
  seq?: number;
}

export interface NotifyEventJob {
  broadcasterId: string;
  /** The event's position in its streamer's feed, assigned once by the feed cache. */
  seq: number;
  event: StreamEvent;
  /** Twitch's message timestamp, for the end-to-end lag metric; absent in older jobs. */
  sentAt?: string;
}

/**
 * A new state of an entry watchers already have (a follow wave that grew): delivered as
 * `event:updated`, outside the `seq` order; `seq` is the entry's own position.
 */
export interface NotifyUpdateJob {
  broadcasterId: string;
  seq: number;
  updated: StreamEvent;
}

/** A stored event played again to everyone watching (`event:replayed`); never a new event. */
export interface NotifyReplayJob {
  broadcasterId: string;
  replayed: StreamEvent;
  /** Unique per request, so that a node drops a replay delivered twice. */
  replayId: string;
  replayedAt: string;
}

/** What goes to the realtime fleet on a streamer's channel. */
export type FeedNotification = NotifyEventJob | NotifyUpdateJob | NotifyReplayJob;

export const isEventNotification = (n: FeedNotification): n is NotifyEventJob => 'event' in n;

/** Events that went through the processor together: one job, one insert, one publish. */
export interface PersistEventsJob {
  rows: PersistEventJob[];
}

export interface NotifyEventsJob {
  notifications: FeedNotification[];
}

export interface FlushFollowWaveJob {
  broadcasterId: string;
  waveId: string;
}

/** The most events one persist-events or notify-events job carries. */
export const MAX_EVENTS_PER_JOB = 100;

export type MaintainPartitionsJob = Record<string, never>;

export interface EnsureSubscriptionsJob {
  broadcasterId: string;
}
export type ReconcileSubscriptionsJob = Record<string, never>;

export interface BackfillFollowsJob {
  broadcasterId: string;
  /** What made streamfeed think it may have missed follows, for the logs. */
  reason: 'processor-start' | 'subscription-recreated' | 'manual';
}

export interface JobPayloads {
  [JOBS.eventSubCallback]: EventSubCallbackJob;
  [JOBS.persistEvents]: PersistEventsJob;
  [JOBS.notifyEvents]: NotifyEventsJob;
  [JOBS.persistEvent]: PersistEventJob;
  [JOBS.notifyEvent]: NotifyEventJob;
  [JOBS.flushFollowWave]: FlushFollowWaveJob;
  [JOBS.maintainPartitions]: MaintainPartitionsJob;
  [JOBS.ensureSubscriptions]: EnsureSubscriptionsJob;
  [JOBS.reconcileSubscriptions]: ReconcileSubscriptionsJob;
  [JOBS.backfillFollows]: BackfillFollowsJob;
}

/** Which queue carries which job. */
export const JOB_QUEUE: Record<JobName, QueueName> = {
  [JOBS.eventSubCallback]: QUEUES.callbacks,
  [JOBS.persistEvents]: QUEUES.persist,
  [JOBS.notifyEvents]: QUEUES.notifications,
  [JOBS.persistEvent]: QUEUES.persist,
  [JOBS.notifyEvent]: QUEUES.notifications,
  [JOBS.flushFollowWave]: QUEUES.notifications,
  [JOBS.maintainPartitions]: QUEUES.maintenance,
  [JOBS.ensureSubscriptions]: QUEUES.subscriptions,
  [JOBS.reconcileSubscriptions]: QUEUES.subscriptions,
  [JOBS.backfillFollows]: QUEUES.backfill,
};

/**
 * Retries with exponential backoff (1 s, 2 s, 4 s ... about 4 minutes in all), and failed jobs
 * are kept for two weeks so that an operator can inspect and retry them.
 */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 600, count: 10_000 },
  removeOnFail: { age: 14 * 24 * 3600, count: 100_000 },
};

/** Longest wait between two attempts of a job with the capped backoff. */
export const CAPPED_BACKOFF_MAX_MS = 30_000;
export const CAPPED_BACKOFF = 'capped-exponential';

/** 1 s, 2 s, 4 s ... then every 30 s: a long outage is ridden out, and its end noticed soon. */
export const cappedExponentialBackoff = (attemptsMade: number): number =>
  Math.min(1000 * 2 ** Math.max(0, attemptsMade - 1), CAPPED_BACKOFF_MAX_MS);

/**
 * Storing an event waits out a PostgreSQL outage of about 100 minutes (200 attempts, mostly 30 s
 * apart) before the job lands in the failed list; live delivery never waits on it.
 */
export const PERSIST_JOB_OPTIONS: JobsOptions = {
  attempts: 200,
  backoff: { type: CAPPED_BACKOFF },
};

export const bullPrefix = (redisPrefix: string): string => `${redisPrefix}:bull`;

/**
 * The kinds that carry the pipeline's work, one queue per shard (QUEUE_SHARDS), so that on a
 * Redis Cluster their scripts run on every master instead of one. The others carry a few jobs
 * a minute and stay one queue each.
 */
export const SHARDED_QUEUES: ReadonlySet<QueueName> = new Set([
  QUEUES.callbacks,
  QUEUES.persist,
  QUEUES.notifications,
]);

/**
 * The BullMQ name of one shard of a queue: `{eventPersist-3.12269}`, or `{maintenance}` for a
 * kind that is not sharded. The braces are the queue's hash tag: every key BullMQ makes for it
 * (`<prefix>:bull:{eventPersist-3.12269}:wait`, ...) lands in one cluster slot, as its scripts
 * need, and the number after the dot places that slot so that a kind's shards spread evenly over
 * a cluster's masters (queue-slots.ts).
 */
export function queueShardName(kind: QueueName, shard = 0): string {
  return SHARDED_QUEUES.has(kind) ? `{${placedTag(`${kind}-${shard}`, shard)}}` : `{${kind}}`;
}

const SHARD_NAME = /^\{([A-Za-z]+)(?:-(\d+)(?:\.\d+)?)?\}$/;
const KINDS = new Set<string>(Object.values(QUEUES));

/** The shard number in a shard's name, or undefined for an unsharded queue. */
export function shardNumberOf(name: string): number | undefined {
  const shard = SHARD_NAME.exec(name)?.[2];
  return shard === undefined ? undefined : Number(shard);
}

/** The kind a BullMQ queue name belongs to; names of earlier versions were the bare kind. */
export function queueKindOf(name: string): QueueName | undefined {
  const kind = SHARD_NAME.exec(name)?.[1] ?? name;
  return KINDS.has(kind) ? (kind as QueueName) : undefined;
}

/** A stable shard for a key (FNV-1a): the same message id always lands alike. */
export function shardOf(key: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/**
 * The shard for a streamer's work: the one placed in the same part of the slot space as the
 * streamer's feed keys (`{<id>}`, feed-keys.ts), so that on a cluster its callbacks, feed, notify
 * and storage jobs and its channel are on one master (queue-slots.ts); by hash where the shard
 * count does not allow it. Both are stable, and spread streamers evenly.
 */
export function streamerShard(broadcasterId: string, shards: number): number {
  return (
    colocatedShard(calculateSlot(`{${broadcasterId}}`), shards) ?? shardOf(broadcasterId, shards)
  );
}

export function createQueue(
  kind: QueueName,
  connection: ConnectionOptions,
  redisPrefix: string,
  shard = 0,
): Queue {
  return createNamedQueue(queueShardName(kind, shard), connection, redisPrefix);
}

/** A queue by its BullMQ name: a shard's, or one of earlier versions (see legacy-queues.ts). */
export function createNamedQueue(
  name: string,
  connection: ConnectionOptions,
  redisPrefix: string,
): Queue {
  return new Queue(name, {
    connection,
    prefix: bullPrefix(redisPrefix),
    defaultJobOptions: DEFAULT_JOB_OPTIONS,
  });
}

/** Every shard of one kind of queue. */
export interface ShardedQueue {
  kind: QueueName;
  shards: readonly Queue[];
  /** The shard that carries a streamer's work (streamerShard). */
  forStreamer(broadcasterId: string): Queue;
  /** The shard for work without a streamer, by its message id. */
  forMessage(messageId: string): Queue;
  close(): Promise<void>;
}

export function createShardedQueue(
  kind: QueueName,
  connection: ConnectionOptions,
  redisPrefix: string,
  shardCount: number,
): ShardedQueue {
  const count = SHARDED_QUEUES.has(kind) ? shardCount : 1;
  const shards = Array.from({ length: count }, (_, shard) =>
    createQueue(kind, connection, redisPrefix, shard),
  );
  return {
    kind,
    shards,
    forStreamer: (broadcasterId) => shards[streamerShard(broadcasterId, count)]!,
    forMessage: (messageId) => shards[shardOf(messageId, count)]!,
    close: () => Promise.all(shards.map((queue) => queue.close())).then(() => undefined),
  };
}

/** Adds a job whose name, queue and payload type agree. */
export async function enqueue<N extends JobName>(
  queue: Queue,
  name: N,
  data: JobPayloads[N],
  opts?: JobsOptions,
): Promise<void> {
  if (queueKindOf(queue.name) !== JOB_QUEUE[name]) {
    throw new Error(`Job ${name} belongs on queue ${JOB_QUEUE[name]}, not ${queue.name}`);
  }
  await queue.add(name, data, opts);
}
