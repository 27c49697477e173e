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
    /** Sorted set: the latest follows by arrival time (ms), the follow-wave window. */
    recentFollows: `${base}:follows:recent`,
    /** Hash: `current` -> the open wave's id, `closed` -> the last one's, wave id -> its state. */
    waves: `${base}:waves`,
    /** Sorted set: ids of follows taken into a wave, by arrival (their dedupe index). */
    absorbed: `${base}:waves:absorbed`,
    /** Hash: id of a follow taken into a wave -> JSON {wave, seq, msg}. */
    absorbedInfo: `${base}:waves:absorbed:info`,
  };
}

/** How many full events the cache keeps per streamer. */
export const CACHED_EVENTS = 50;
/** How many ids the dedupe index keeps per streamer (ids are small; events are not). */
export const INDEXED_EVENTS = 2000;
