/**
 * Redis keys of one streamer's feed. The `{...}` hash tag keeps a streamer's keys in one Redis
 * Cluster slot, so the append script stays atomic when Redis is sharded.
 */
export function feedKeys(prefix: string, broadcasterId: string) {
  const base = `${prefix}:feed:{${broadcasterId}}`;
  return {
    /** Counter: the last sequence number handed out. */
    seq: `${base}:seq`,
    /** Sorted set: event id scored by sequence number, the longer-lived dedupe index. */
    timeline: `${base}:timeline`,
    /** Hash: event id -> JSON {seq, msg, event}, the latest CACHED_EVENTS only. */
    events: `${base}:events`,
    /** Hash: event id -> JSON message id that first delivered it, as long as the id is indexed. */
    creators: `${base}:creators`,
  };
}

/** How many full events the cache keeps per streamer. */
export const CACHED_EVENTS = 50;
/** How many ids the dedupe index keeps per streamer (ids are small; events are not). */
export const INDEXED_EVENTS = 2000;
