import type { RedisClient } from '../connections/redis.js';
import type { StreamEvent } from '../events/event.js';
import { CACHED_EVENTS, INDEXED_EVENTS, feedKeys } from './feed-keys.js';
import {
  FEED_APPEND_LUA,
  appendResultOf,
  type AppendReply,
  type AppendResult,
} from './feed-cache.js';

/** The type of a follow wave's entry: one growing entry in place of a burst of follows. */
export const FOLLOW_WAVE_TYPE = 'channel.follow.wave';
/** Watchers get a wave's new state at most this often (the trailing one included). */
export const WAVE_UPDATE_INTERVAL_MS = 1000;
/** The newest followers a wave entry names; the API lists all of them. */
export const WAVE_LATEST_FOLLOWERS = 10;
/** How long a wave's state outlives its last follow: long enough for its trailing update. */
const WAVE_STATE_TTL_MS = 3_600_000;

export const isFollowWave = (event: { type: string }): boolean => event.type === FOLLOW_WAVE_TYPE;

/**
 * A wave's id, from the follow that opened it. `wave_` sorts after every `ev_` id, so the entry
 * comes just above its follows (which share its position) in the history's newest-first order.
 */
export const waveIdFor = (openingFollowId: string): string =>
  `wave_${openingFollowId.replace(/^ev_/, '')}`;

/**
 * What a follow's wave state says of its delivery: ARCHITECTURE.md, "Follow waves". A live
 * follow is appended to the feed by the script that decides it (the feed cache's append, with
 * its answer), so no wave opened after the decision can come below it.
 */
export type FollowDecision =
  | ({ kind: 'live' } & AppendResult)
  | {
      kind: 'absorbed';
      /** False when this follow was taken in before (a retry, or a re-send). */
      created: boolean;
      /** The message id that first delivered the follow. */
      messageId: string | null;
      /** The wave entry's feed position, which its follows share in the history. */
      seq: number;
      /** The follow as stored: `data.waveId` names its wave. */
      follow: StreamEvent;
      /** The wave entry as it is now; null if its state is gone (a retry long after). */
      wave: StreamEvent | null;
      /**
       * `opened`: this follow opened the wave, announce the entry under `seq`; `publish`: send
       * its new state now; `schedule`: send it at `flushAt` (a trailing update); `none`: one is
       * due already.
       */
      action: 'opened' | 'publish' | 'schedule' | 'none';
      flushAt: number;
    };

export interface FollowWaves {
  /**
   * Decides, once and atomically, whether a follow is a row of its own or part of a wave, and
   * appends it to the feed in the same step when it is a row.
   */
  take(follow: StreamEvent, messageId: string | null, now?: number): Promise<FollowDecision>;
  /** A wave's state for its trailing update (null once forgotten); marks it as sent. */
  flush(
    broadcasterId: string,
    waveId: string,
    now?: number,
  ): Promise<{ seq: number; wave: StreamEvent } | null>;
}

// The entry watchers see, built from the wave's state (every field is the script's own).
const ENTRY_LUA = `
local function entryOf(state)
  local seconds = math.max(1, math.floor((state.lastAt - state.startedAt) / 1000 + 0.5))
  local noun = 'new followers'
  if state.count == 1 then noun = 'new follower' end
  return cjson.encode({
    id = state.id, type = '${FOLLOW_WAVE_TYPE}',
    broadcasterId = state.broadcasterId, broadcasterLogin = state.broadcasterLogin,
    broadcasterName = state.broadcasterName, occurredAt = state.startedIso, actor = cjson.null,
    summary = string.format('Follow wave: %d %s in %d s', state.count, noun, seconds),
    data = { count = state.count, startedAt = state.startedIso, lastAt = state.lastIso,
             seconds = seconds, latest = state.latest } })
end
`;

/*
 * KEYS: 1 seq, 2 timeline, 3 events, 4 creators, 5 recent follows, 6 waves, 7 absorbed,
 * 8 absorbed info (all the streamer's, one hash tag). ARGV: 1 follow id, 2 follow JSON,
 * 3 message id JSON, 4 now (ms), 5 threshold, 6 window (ms), 7 now ISO, 8 wave id if it opens,
 * 9 latest followers kept, 10 cached, 11 indexed, 12 update interval (ms), 13 state TTL (ms).
 * A live follow is appended here, not in a second script: between the two, another processor's
 * follow could open a wave, and the follow decided before it would get a seq above the entry's.
 */
const TAKE_SCRIPT = `
${FEED_APPEND_LUA}
${ENTRY_LUA}
local id = ARGV[1]
local function live()
  local appended = appendFeed(KEYS[1], KEYS[2], KEYS[3], KEYS[4], id, ARGV[2], ARGV[3],
    tonumber(ARGV[10]), tonumber(ARGV[11]))
  return {'live', appended[1], appended[2], appended[3], appended[4]}
end
-- Appended live before (a retry, or a re-send): the feed's first answer again.
if redis.call('ZSCORE', KEYS[2], id) then return live() end
local known = redis.call('HGET', KEYS[8], id)
if known then
  local info = cjson.decode(known)
  local state = redis.call('HGET', KEYS[6], info.wave)
  local entry = false
  if state then entry = entryOf(cjson.decode(state)) end
  return {'absorbed', 0, known, entry or false, 'none', 0}
end
local now, threshold, window = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZADD', KEYS[5], now, id)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. (now - window))
-- Only "more than the threshold?" matters: the newest threshold + 1 are enough to tell.
redis.call('ZREMRANGEBYRANK', KEYS[5], 0, -(threshold + 2))
redis.call('PEXPIRE', KEYS[5], window)
local currentId = redis.call('HGET', KEYS[6], 'current')
if redis.call('ZCARD', KEYS[5]) <= threshold then
  if currentId then
    -- The burst is over. The closed wave's state stays for its trailing update.
    local previous = redis.call('HGET', KEYS[6], 'closed')
    if previous then redis.call('HDEL', KEYS[6], previous) end
    redis.call('HSET', KEYS[6], 'closed', currentId)
    redis.call('HDEL', KEYS[6], 'current')
  end
  return live()
end
local follow = cjson.decode(ARGV[2])
local state
if currentId then
  local stored = redis.call('HGET', KEYS[6], currentId)
  if stored then state = cjson.decode(stored) end
end
local action = 'none'
if not state then
  local seq = redis.call('INCR', KEYS[1])
  state = { id = ARGV[8], seq = seq, msg = ARGV[3], startedAt = now, startedIso = ARGV[7],
            count = 0, latest = {}, publishedAt = now, flushPending = false,
            broadcasterId = follow.broadcasterId, broadcasterLogin = follow.broadcasterLogin,
            broadcasterName = follow.broadcasterName }
  redis.call('ZADD', KEYS[2], seq, state.id)
  redis.call('HSET', KEYS[4], state.id, ARGV[3])
  redis.call('HSET', KEYS[6], 'current', state.id)
  action = 'opened'
end
state.count = state.count + 1
state.lastAt = math.max(now, state.lastAt or now)
state.lastIso = ARGV[7]
if follow.actor ~= cjson.null then table.insert(state.latest, 1, follow.actor) end
while #state.latest > tonumber(ARGV[9]) do table.remove(state.latest) end
if action ~= 'opened' then
  if now - state.publishedAt >= tonumber(ARGV[12]) then
    action = 'publish'
    state.publishedAt = now
  elseif not state.flushPending then
    action = 'schedule'
    state.flushPending = true
  end
end
local entry = entryOf(state)
if action == 'opened' or redis.call('HEXISTS', KEYS[3], state.id) == 1 then
  redis.call('HSET', KEYS[3], state.id,
    '{"seq":' .. state.seq .. ',"msg":' .. state.msg .. ',"event":' .. entry .. '}')
end
if action == 'opened' then
  trimFeed(KEYS[2], KEYS[3], KEYS[4], tonumber(ARGV[10]), tonumber(ARGV[11]))
end
redis.call('HSET', KEYS[6], state.id, cjson.encode(state))
redis.call('PEXPIRE', KEYS[6], tonumber(ARGV[13]))
local info = cjson.encode({ wave = state.id, seq = state.seq, msg = ARGV[3] })
redis.call('ZADD', KEYS[7], now, id)
redis.call('HSET', KEYS[8], id, info)
local forgotten = redis.call('ZRANGE', KEYS[7], 0, -(tonumber(ARGV[11]) + 1))
if forgotten[1] then
  redis.call('HDEL', KEYS[8], unpack(forgotten))
  redis.call('ZREMRANGEBYRANK', KEYS[7], 0, -(tonumber(ARGV[11]) + 1))
end
return {'absorbed', 1, info, entry, action, state.publishedAt + tonumber(ARGV[12])}
`;

// KEYS: 1 waves. ARGV: 1 wave id, 2 now (ms).
const FLUSH_SCRIPT = `
${ENTRY_LUA}
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if not stored then return false end
local state = cjson.decode(stored)
state.flushPending = false
state.publishedAt = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(state))
return {state.seq, entryOf(state)}
`;

type Script = (...args: unknown[]) => Promise<unknown>;

/**
 * Follow waves (ARCHITECTURE.md, "Follow waves"): more than `threshold` follows of one streamer
 * within `windowMs` open a wave, and while the window keeps holding more than that, each follow
 * is taken into it instead of the live feed. The decision, the wave's state and a live follow's
 * feed append are in Redis under the streamer's hash tag, in one script, so every processor
 * decides alike, a retried follow gets its first answer again, and a follow decided live before
 * a wave opened always comes below the wave's entry.
 */
export function createFollowWaves(
  redis: RedisClient,
  prefix: string,
  options: { threshold: number; windowMs: number },
): FollowWaves {
  redis.defineCommand('sfFollowWaveTake', { numberOfKeys: 8, lua: TAKE_SCRIPT });
  redis.defineCommand('sfFollowWaveFlush', { numberOfKeys: 1, lua: FLUSH_SCRIPT });
  const commands = redis as unknown as Record<string, Script>;
  const take = commands.sfFollowWaveTake!.bind(redis);
  const flush = commands.sfFollowWaveFlush!.bind(redis);
  const parseWave = (json: string | null) => (json ? (JSON.parse(json) as StreamEvent) : null);

  return {
    async take(follow, messageId, now = Date.now()) {
      const keys = feedKeys(prefix, follow.broadcasterId);
      const reply = (await take(
        keys.seq,
        keys.timeline,
        keys.events,
        keys.creators,
        keys.recentFollows,
        keys.waves,
        keys.absorbed,
        keys.absorbedInfo,
        follow.id,
        JSON.stringify(follow),
        JSON.stringify(messageId),
        now,
        options.threshold,
        options.windowMs,
        new Date(now).toISOString(),
        waveIdFor(follow.id),
        WAVE_LATEST_FOLLOWERS,
        CACHED_EVENTS,
        INDEXED_EVENTS,
        WAVE_UPDATE_INTERVAL_MS,
        WAVE_STATE_TTL_MS,
      )) as ['live', ...AppendReply] | ['absorbed', number, string, string | null, string, number];
      if (reply[0] === 'live') {
        const [, ...appended] = reply;
        return { kind: 'live', ...appendResultOf(appended, follow) };
      }
      const [, created, infoJson, entryJson, action, flushAt] = reply;
      const info = JSON.parse(infoJson) as { wave: string; seq: number; msg: string };
      return {
        kind: 'absorbed',
        created: created === 1,
        messageId: JSON.parse(info.msg) as string | null,
        seq: Number(info.seq),
        follow: { ...follow, data: { ...follow.data, waveId: info.wave } },
        wave: parseWave(entryJson),
        action: action as 'opened' | 'publish' | 'schedule' | 'none',
        flushAt: Number(flushAt),
      };
    },

    async flush(broadcasterId, waveId, now = Date.now()) {
      const reply = (await flush(feedKeys(prefix, broadcasterId).waves, waveId, now)) as
        [number, string] | null;
      return reply ? { seq: Number(reply[0]), wave: parseWave(reply[1])! } : null;
    },
  };
}
