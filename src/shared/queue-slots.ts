const SLOTS = 16384;

/**
 * Where shard `i` of a queue kind sits in the 16384 slots, as a fraction: shard 6q + r aims at
 * the (ORDER[r])th sixth, moved on within it by the van der Corput sequence in base 2 of q. So
 * the first 2 shards fall in different halves, the first 3 in different thirds, the first 4 in
 * different quarters, any 6k in every sixth alike, and 12k evenly over 2, 3, 4, 6 or 12 equal
 * ranges: the even splits of `redis-cli --cluster create` and ElastiCache spread a kind's shards
 * evenly over 2, 3, 4 or 6 masters. The name alone would not: CRC16 of `{eventNotifications-0}`
 * ... `{eventNotifications-5}` puts 4 of 6 on one of 3 masters.
 */
const ORDER = [0, 3, 5, 2, 1, 4];

function vanDerCorput(q: number): number {
  let value = 0;
  for (let bit = 0.5; q > 0; q >>= 1, bit /= 2) if (q & 1) value += bit;
  return value;
}

/** The slot shard `shard` of a kind aims at: off each range's edge, whatever the split's rounding. */
export function shardSlot(shard: number): number {
  const sixth = ORDER[shard % 6]!;
  const within = vanDerCorput(Math.floor(shard / 6));
  return (Math.floor((SLOTS * (sixth + within)) / 6) + 64) % SLOTS;
}

// CRC16-XMODEM, the hash of Redis Cluster's key slots (CRC16(key) mod 16384), one byte at a time.
const CRC_TABLE = Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) {
    crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
});

/** The CRC of `text`'s bytes, continued from `from`; its characters are ASCII (names and digits). */
function crc16(text: string, from = 0): number {
  let crc = from;
  for (let i = 0; i < text.length; i++) {
    crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >> 8) ^ text.charCodeAt(i)) & 0xff]!;
  }
  return crc;
}

const found = new Map<string, string>();

/**
 * A hash tag for `base` (`eventPersist-3`) that hashes to exactly shardSlot's slot: `base.<n>`
 * with the smallest such n. A pure function of its arguments, so every process finds the same
 * name. About 16384 tries, each hashing only the digits after the CRC of `base.` (a whole-name
 * hash took 3 to 4 s at start-up for 64 shards of 3 kinds); then remembered. A tag has no braces,
 * so its slot is the CRC of all of it, as calculateSlot checks in the unit test.
 */
export function placedTag(base: string, shard: number): string {
  const key = `${base}/${shard}`;
  let tag = found.get(key);
  if (!tag) {
    const slot = shardSlot(shard);
    const prefix = crc16(`${base}.`);
    for (let n = 0; ; n++) {
      if ((crc16(String(n), prefix) & (SLOTS - 1)) === slot) {
        tag = `${base}.${n}`;
        break;
      }
    }
    found.set(key, tag);
  }
  return tag;
}

const colocated = new Map<number, number[] | null>();

/**
 * The shard of `shards` whose slot (shardSlot) lies in the same one of `shards` equal ranges of
 * the slot space as `slot`, or null when the shards do not fall one in each range (5, 7... of
 * them). Work keyed by a streamer then goes to the shard on the master that holds the streamer's
 * own keys, whenever the masters hold equal ranges in some multiple or fraction of `shards`, as
 * redis-cli and ElastiCache split them: one event's queue, feed and publish are one master's work.
 */
export function colocatedShard(slot: number, shards: number): number | null {
  let byRange = colocated.get(shards);
  if (byRange === undefined) {
    const ranges = Array.from({ length: shards }, (_, shard) =>
      Math.floor((shardSlot(shard) * shards) / SLOTS),
    );
    byRange = new Set(ranges).size === shards ? ranges.map((_, r) => ranges.indexOf(r)) : null;
    colocated.set(shards, byRange);
  }
  return byRange ? byRange[Math.floor((slot * shards) / SLOTS)]! : null;
}
