import assert from 'node:assert/strict';
import calculateSlot from 'cluster-key-slot';
import {
  QUEUES,
  queueKindOf,
  queueShardName,
  shardNumberOf,
  shardOf,
  streamerShard,
} from '../../src/shared/queues.js';
import { colocatedShard, shardSlot } from '../../src/shared/queue-slots.js';

/** How many of a kind's first `shards` queues fall in each of `masters` even slot ranges. */
function spread(kind: (typeof QUEUES)[keyof typeof QUEUES], shards: number, masters: number) {
  const per = new Array<number>(masters).fill(0);
  for (let shard = 0; shard < shards; shard++) {
    const slot = calculateSlot(queueShardName(kind, shard));
    assert.equal(slot, shardSlot(shard), 'the name hashes to the slot it aims at');
    per[Math.floor((slot * masters) / 16384)]!++;
  }
  return per;
}

describe('queue shard placement', () => {
  it('spreads each kind evenly over the masters of an even split, whatever the kind', () => {
    for (const kind of [QUEUES.callbacks, QUEUES.persist, QUEUES.notifications]) {
      assert.deepEqual(spread(kind, 6, 3), [2, 2, 2], `${kind}: 6 shards on 3 masters`);
      assert.deepEqual(spread(kind, 6, 2), [3, 3]);
      assert.deepEqual(spread(kind, 6, 6), [1, 1, 1, 1, 1, 1]);
      assert.deepEqual(spread(kind, 12, 4), [3, 3, 3, 3]);
      assert.deepEqual(spread(kind, 3, 3), [1, 1, 1], 'as many shards as masters');
      assert.deepEqual(spread(kind, 4, 4), [1, 1, 1, 1]);
    }
  });

  it('keeps the names that earlier versions made, up to the 64th shard', () => {
    // Queues that exist keep their jobs only if their names never change.
    assert.equal(queueShardName(QUEUES.persist, 0), '{eventPersist-0.21217}');
    assert.equal(queueShardName(QUEUES.callbacks, 2), '{twitchCallbacks-2.4749}');
    assert.equal(queueShardName(QUEUES.notifications, 63), '{eventNotifications-63.8205}');
    for (const kind of [QUEUES.callbacks, QUEUES.persist, QUEUES.notifications]) {
      for (let shard = 0; shard < 64; shard++) {
        assert.equal(calculateSlot(queueShardName(kind, shard)), shardSlot(shard));
      }
    }
  });

  it('keeps each shard one distinct hash tag that names its kind and number', () => {
    const names = new Set<string>();
    for (let shard = 0; shard < 24; shard++) {
      const name = queueShardName(QUEUES.notifications, shard);
      assert.match(name, /^\{eventNotifications-\d+\.\d+\}$/);
      assert.equal(queueKindOf(name), QUEUES.notifications);
      assert.equal(shardNumberOf(name), shard);
      names.add(name);
    }
    assert.equal(names.size, 24);
    assert.equal(queueShardName(QUEUES.maintenance), '{maintenance}');
    assert.equal(shardNumberOf('{maintenance}'), undefined);
    assert.equal(
      queueKindOf('twitchCallbacks'),
      QUEUES.callbacks,
      'the bare name of earlier versions',
    );
  });

  it("sends a streamer's work to the shard on the master of its feed keys, evenly", () => {
    // redis-cli --cluster create's split of the slots: master k of n holds an equal range.
    const masterOf = (slot: number, masters: number) => Math.floor((slot * masters) / 16384);
    const streamers = Array.from({ length: 3000 }, (_, i) => String(40_000_000 + i * 7919));
    for (const [shards, masters] of [
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [6, 3],
      [6, 6],
      [12, 4],
      [12, 12],
    ] as const) {
      const perShard = new Array<number>(shards).fill(0);
      for (const id of streamers) {
        const shard = streamerShard(id, shards);
        perShard[shard]!++;
        const feedSlot = calculateSlot(`t:feed:{${id}}:seq`);
        for (const kind of [QUEUES.callbacks, QUEUES.persist, QUEUES.notifications]) {
          assert.equal(
            masterOf(calculateSlot(queueShardName(kind, shard)), masters),
            masterOf(feedSlot, masters),
            `${kind} shard ${shard} of ${shards} on the master of streamer ${id}'s feed (${masters} masters)`,
          );
        }
      }
      const fair = streamers.length / shards;
      for (const count of perShard) {
        assert.ok(Math.abs(count - fair) < fair * 0.2, `${shards} shards: ${perShard.join('/')}`);
      }
    }
  });

  it('co-locates at the shard counts the docs name, of the 1 to 64 allowed', () => {
    const counts = Array.from({ length: 64 }, (_, i) => i + 1).filter(
      (shards) => colocatedShard(0, shards) !== null,
    );
    assert.deepEqual(counts, [1, 2, 3, 4, 6, 12, 24, 48]); // OPERATIONS.md, ARCHITECTURE.md
  });

  it('falls back to a hash of the streamer where the shards cannot follow the slot ranges', () => {
    // 5 shards do not fall one in each fifth of the slots.
    for (const id of ['1', '42', '9000', '123456789']) {
      assert.equal(streamerShard(id, 5), shardOf(id, 5));
    }
  });
});
