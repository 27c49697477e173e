import type { StreamEvent } from '../shared/events/event.js';
import type { FeedCache, FeedEntry } from '../shared/feed/feed-cache.js';
import type { ReplayedEvent } from '../shared/realtime-protocol.js';
import { streamerRoom } from '../shared/rooms.js';

const RECENT_IDS = 1000;
const MAX_OWED = 10_000;
/** Entries whose newest state a node keeps (waves grow for seconds, a few at a time). */
const TRACKED_UPDATES = 100;
const RECENT_REPLAYS = 100;

/** Messages beside `event` that watchers get outside the seq order. */
export type Signal =
  | { name: 'event:updated'; payload: StreamEvent }
  | { name: 'event:replayed'; payload: ReplayedEvent };
type Waiting = { event: StreamEvent } | { signal: Signal };

/** A growing entry's version: its count (a follow wave's followers). */
const versionOf = (event: StreamEvent): number => Number(event.data.count ?? 0);

/** A joining socket's catch-up: see RoomFeed.join. */
export interface Backlog {
  events: StreamEvent[];
  complete: boolean;
}

/** What a room feed needs from Socket.IO: delivery to this node's sockets only. */
export interface LocalDelivery {
  toRoom(room: string, exceptSocketIds: string[], event: StreamEvent): void;
  toSocket(socketId: string, event: StreamEvent): void;
  /** `event:updated` and `event:replayed`, to the same targets. */
  signalRoom?(room: string, exceptSocketIds: string[], signal: Signal): void;
  signalSocket?(socketId: string, signal: Signal): void;
}

/**
 * One streamer's feed on one realtime node. Emitters may deliver an event twice, late, or out of
 * order, and Redis pub/sub may lose one; the feed delivers each sequence number once and in order,
 * filling gaps from the feed cache. All its steps run one at a time, in arrival order.
 */
export class RoomFeed {
  readonly room: string;
  private lastSeq: number | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  /** Sockets whose backlog is on its way: live events wait here so they follow the backlog. */
  private readonly pending = new Map<string, Waiting[]>();
  /** The newest state of entries that grow (follow waves), by id. */
  private readonly updates = new Map<string, StreamEvent>();
  private readonly replays = new Set<string>();
  /** Ids delivered lately, so that a duplicate is known by its id as well as by its seq. */
  private readonly recent = new Set<string>();
  private readonly recentOrder: string[] = [];
  /** Sequence numbers a gap fill could not find in the cache; their own emission still counts. */
  private readonly owed = new Set<number>();
  closed = false;

  constructor(
    readonly broadcasterId: string,
    private readonly cache: FeedCache,
    private readonly delivery: LocalDelivery,
    private readonly onError: (error: unknown) => void,
    /** Subscribes to the streamer's channel (done once, retried after a failure); see join. */
    private readonly subscribe: () => Promise<void> = () => Promise.resolve(),
  ) {
    this.room = streamerRoom(broadcasterId);
  }

  private run<T>(step: () => Promise<T>): Promise<T> {
    const result = this.tail.then(step);
    this.tail = result.catch(this.onError);
    return result;
  }

  deliver(seq: number, event: StreamEvent): Promise<void> {
    return this.run(async () => {
      if (this.closed || this.lastSeq === undefined || this.recent.has(event.id)) return;
      if (this.owed.delete(seq)) {
        // A gap fill could not find it (the cache had moved on): late, but not lost.
        this.broadcast(event);
        return;
      }
      if (seq <= this.lastSeq) {
        // Either a stale duplicate, or the feed's counter restarted (Redis lost the feed keys).
        if ((await this.cache.currentSeq(this.broadcasterId)) >= this.lastSeq) return;
        this.onError(
          new Error(`Feed ${this.broadcasterId} restarted at seq ${seq} after ${this.lastSeq}`),
        );
        this.lastSeq = seq - 1;
      }
      if (seq > this.lastSeq + 1) {
        const from = this.lastSeq;
        const missing = await this.cache.range(this.broadcasterId, from, seq - 1);
        const found = new Set(missing.map((entry) => entry.seq));
        for (let owed = from + 1; owed < seq && this.owed.size < MAX_OWED; owed++) {
          if (!found.has(owed)) this.owed.add(owed);
        }
        for (const entry of missing) this.send(entry);
      }
      this.send({ seq, event });
    });
  }

  /**
   * A new state of the entry at `seq` (a follow wave that grew). Watchers that have the entry (it
   * is at or below the last delivered seq: live or in their backlog) get `event:updated`; an
   * entry not delivered yet goes out in its newest state when it is. An older state than one
   * seen is dropped, so updates may come late, twice, or out of order.
   */
  update(seq: number, event: StreamEvent): Promise<void> {
    return this.run(() => {
      if (this.closed || this.lastSeq === undefined) return Promise.resolve();
      const known = this.updates.get(event.id);
      if (known && versionOf(known) >= versionOf(event)) return Promise.resolve();
      this.updates.delete(event.id);
      this.updates.set(event.id, event);
      if (this.updates.size > TRACKED_UPDATES) {
        this.updates.delete(this.updates.keys().next().value!);
      }
      if (seq <= this.lastSeq) this.signal({ name: 'event:updated', payload: event });
      return Promise.resolve();
    });
  }

  /** A stored event played again: `event:replayed` to every watcher, once per replay. */
  replay(replay: ReplayedEvent): Promise<void> {
    return this.run(() => {
      if (this.closed || this.lastSeq === undefined || this.replays.has(replay.replayId)) {
        return Promise.resolve();
      }
      this.replays.add(replay.replayId);
      if (this.replays.size > RECENT_REPLAYS) {
        this.replays.delete(this.replays.values().next().value!);
      }
      this.signal({ name: 'event:replayed', payload: replay });
      return Promise.resolve();
    });
  }

  /**
   * Joins a socket and returns its backlog (null if the feed was released meanwhile): the cached
   * events after `since` (or the latest `defaultCount`) up to the last one this node delivered.
   * `complete` is false when events after `since` are no longer cached (the viewer was away for
   * more than the cache holds, or `since` is unknown): the backlog then holds the newest cached
   * ones, and the rest is for the caller to fetch from the event store. Live events after the
   * boundary wait in the socket's pending list until `release` is called with the backlog sent.
   */
  async join(
    socketId: string,
    join: () => void,
    since: string | undefined,
    defaultCount: number,
  ): Promise<Backlog | null> {
    const boundary = await this.run(async () => {
      // A feed released while this join waited is gone from the node: the caller takes a new one.
      if (this.closed) return null;
      if (this.lastSeq === undefined) {
        // Subscribed before the feed's position is read: an event cached after that read is
        // published after the subscription, so it arrives live; one cached before is backlog.
        await this.subscribe();
        this.lastSeq ??= await this.cache.currentSeq(this.broadcasterId);
      }
      join();
      this.pending.set(socketId, []);
      return this.lastSeq;
    });
    if (boundary === null) return null;
    try {
      const sinceSeq =
        since === undefined ? null : await this.cache.seqOf(this.broadcasterId, since);
      if (sinceSeq !== null) {
        const entries = await this.cache.range(this.broadcasterId, sinceSeq, boundary);
        return {
          events: entries.map((e) => e.event),
          complete: entries.length >= boundary - sinceSeq,
        };
      }
      // No `since`, or one too old to be indexed: the latest cached events are the best we have.
      const latest = await this.cache.latest(
        this.broadcasterId,
        since === undefined ? defaultCount : Number.MAX_SAFE_INTEGER,
      );
      const events = latest
        .filter((e) => e.seq <= boundary)
        .reverse()
        .map((e) => e.event);
      return { events, complete: since === undefined };
    } catch (error) {
      this.pending.delete(socketId);
      throw error;
    }
  }

  /** Sends what arrived while the socket's backlog was loading, then delivers to it live. */
  release(socketId: string): void {
    const waiting = this.pending.get(socketId);
    if (!waiting) return;
    this.pending.delete(socketId);
    for (const item of waiting) {
      if ('event' in item) this.delivery.toSocket(socketId, item.event);
      else this.delivery.signalSocket?.(socketId, item.signal);
    }
  }

  forget(socketId: string): void {
    this.pending.delete(socketId);
  }

  private send({ seq, event }: FeedEntry): void {
    if ((this.lastSeq !== undefined && seq <= this.lastSeq) || this.recent.has(event.id)) return;
    this.lastSeq = seq;
    this.broadcast(event);
  }

  private broadcast(delivered: StreamEvent): void {
    // An update that came before its entry: the entry goes out as it is now.
    const newer = this.updates.get(delivered.id);
    const event = newer && versionOf(newer) > versionOf(delivered) ? newer : delivered;
    this.recent.add(event.id);
    this.recentOrder.push(event.id);
    if (this.recentOrder.length > RECENT_IDS) this.recent.delete(this.recentOrder.shift()!);
    this.delivery.toRoom(this.room, [...this.pending.keys()], event);
    for (const waiting of this.pending.values()) waiting.push({ event });
  }

  private signal(signal: Signal): void {
    this.delivery.signalRoom?.(this.room, [...this.pending.keys()], signal);
    for (const waiting of this.pending.values()) waiting.push({ signal });
  }
}
