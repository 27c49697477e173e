import type { RedisClient } from '../connections/redis.js';
import type { StreamEvent } from '../events/event.js';
import { CACHED_EVENTS, INDEXED_EVENTS, feedKeys } from './feed-keys.js';

export interface FeedEntry {
  seq: number;
  event: StreamEvent;
}

export interface AppendResult extends FeedEntry {
  /** False when the event was already in the feed (a duplicate or a retried job). */
  created: boolean;
  /** The message id that first delivered the event. */
  messageId: string | null;
}

interface StoredEntry {
  seq: number;
  msg: string | null;
  event: StreamEvent;
}

/**
 * Lua: after an entry was added, drops the full event that fell out of the cache (`cached`
 * newest) and the ids that fell out of the dedupe index (`indexed` newest).
 */
const TRIM_FEED_LUA = `
local function trimFeed(timeline, events, creators, cached, indexed)
  local evicted = redis.call('ZRANGE', timeline, -(cached + 1), -(cached + 1))
  if evicted[1] then redis.call('HDEL', events, evicted[1]) end
  local forgotten = redis.call('ZRANGE', timeline, 0, -(indexed + 1))
  if forgotten[1] then
    redis.call('HDEL', creators, unpack(forgotten))
    redis.call('ZREMRANGEBYRANK', timeline, 0, -(indexed + 1))
  end
end
`;

/**
 * Lua: defines `trimFeed` (above) and `appendFeed(seq, timeline, events, creators, id, event
 * JSON, message id JSON, cached, indexed)`, which returns `{created, entry, seq, creator}` (read
 * by `appendResultOf`). One definition for the feed append and the follow-wave script, which
 * appends a live follow in the same script that decides it is live.
 */
export const FEED_APPEND_LUA = `
${TRIM_FEED_LUA}
local function appendFeed(seqKey, timeline, events, creators, id, eventJson, msgJson, cached, indexed)
  local existing = redis.call('ZSCORE', timeline, id)
  if existing then
    return {0, redis.call('HGET', events, id) or false, existing,
            redis.call('HGET', creators, id) or false}
  end
  local seq = redis.call('INCR', seqKey)
  redis.call('ZADD', timeline, seq, id)
  local entry = '{"seq":' .. seq .. ',"msg":' .. msgJson .. ',"event":' .. eventJson .. '}'
  redis.call('HSET', events, id, entry)
  redis.call('HSET', creators, id, msgJson)
  trimFeed(timeline, events, creators, cached, indexed)
  return {1, entry, seq, msgJson}
end
`;

// Atomic so that two processors appending the same event cannot both create it, and the
// sequence number and the entry can never disagree.
const APPEND_SCRIPT = `
${FEED_APPEND_LUA}
return appendFeed(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3],
  tonumber(ARGV[4]), tonumber(ARGV[5]))
`;

/** `appendFeed`'s reply: created (1/0), the stored entry, seq, the creator's message id JSON. */
export type AppendReply = [number, string | null, string | number, string | null];

/** The AppendResult of `appendFeed`'s reply for `event` (the one it was asked to append). */
export function appendResultOf(
  [created, entryJson, seq, creator]: AppendReply,
  event: StreamEvent,
): AppendResult {
  // An id still indexed but evicted from the cache comes back without its entry.
  const stored = entryJson ? (JSON.parse(entryJson) as StoredEntry) : null;
  return {
    created: created === 1,
    seq: Number(seq),
    event: stored?.event ?? event,
    messageId: creator ? (JSON.parse(creator) as string | null) : null,
  };
}

export interface FeedCache {
  append(event: StreamEvent, messageId: string | null): Promise<AppendResult>;
  /** The newest `limit` cached events, newest first. */
  latest(broadcasterId: string, limit: number): Promise<FeedEntry[]>;
  /** Cached events with from < seq <= to, oldest first. */
  range(broadcasterId: string, fromSeq: number, toSeq: number): Promise<FeedEntry[]>;
  /** The sequence number of an event still in the index, or null. */
  seqOf(broadcasterId: string, eventId: string): Promise<number | null>;
  currentSeq(broadcasterId: string): Promise<number>;
}

export function createFeedCache(redis: RedisClient, prefix: string): FeedCache {
  redis.defineCommand('sfFeedAppend', { numberOfKeys: 4, lua: APPEND_SCRIPT });
  const append = (
    redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
  ).sfFeedAppend!.bind(redis);

  async function load(broadcasterId: string, ids: string[]): Promise<FeedEntry[]> {
    if (ids.length === 0) return [];
    const raw = await redis.hmget(feedKeys(prefix, broadcasterId).events, ...ids);
    return raw
      .filter((json): json is string => json !== null)
      .map((json) => {
        const { seq, event } = JSON.parse(json) as StoredEntry;
        return { seq, event };
      });
  }

  return {
    async append(event, messageId) {
      const keys = feedKeys(prefix, event.broadcasterId);
      const reply = (await append(
        keys.seq,
        keys.timeline,
        keys.events,
        keys.creators,
        event.id,
        JSON.stringify(event),
        JSON.stringify(messageId),
        CACHED_EVENTS,
        INDEXED_EVENTS,
      )) as AppendReply;
      return appendResultOf(reply, event);
    },

    async latest(broadcasterId, limit) {
      const count = Math.min(limit, CACHED_EVENTS);
      const ids = await redis.zrevrange(feedKeys(prefix, broadcasterId).timeline, 0, count - 1);
      return load(broadcasterId, ids);
    },

    async range(broadcasterId, fromSeq, toSeq) {
      if (toSeq <= fromSeq) return [];
      const ids = await redis.zrangebyscore(
        feedKeys(prefix, broadcasterId).timeline,
        `(${fromSeq}`,
        toSeq,
      );
      return load(broadcasterId, ids.slice(-CACHED_EVENTS));
    },

    async seqOf(broadcasterId, eventId) {
      const score = await redis.zscore(feedKeys(prefix, broadcasterId).timeline, eventId);
      return score === null ? null : Number(score);
    },

    async currentSeq(broadcasterId) {
      return Number((await redis.get(feedKeys(prefix, broadcasterId).seq)) ?? 0);
    },
  };
}
