/** Who caused an event; null on the Event when nobody did or they stayed anonymous. */
export interface Actor {
  id: string;
  login: string;
  name: string;
}

/** The contract's Event: the same shape on the REST API and on the socket. */
export interface StreamEvent {
  /** Stable: every duplicate delivery of one Twitch event has the same id. */
  id: string;
  /** The EventSub subscription type, e.g. "channel.follow". */
  type: string;
  broadcasterId: string;
  broadcasterLogin: string;
  broadcasterName: string;
  /** ISO 8601 with millisecond precision. */
  occurredAt: string;
  actor: Actor | null;
  summary: string;
  /** Type-specific fields, camelCase. */
  data: Record<string, unknown>;
  /**
   * Present (true) only on a follow fetched from Helix after streamfeed could not hear it live
   * (its downtime, a revoked subscription); absent on everything delivered by EventSub.
   */
  backfilled?: true;
}

/** A normalised event before its id is settled by the dedupe step. */
export type EventDraft = Omit<StreamEvent, 'id'>;

/** The part of an EventSub subscription object that normalising needs. */
export interface SubscriptionInfo {
  type: string;
  version: string;
  condition: Record<string, unknown>;
}
