import type { Redis } from 'ioredis';
import { isCluster, type RedisClient } from './redis.js';

/**
 * The keys matching `pattern`, in batches, from every node that holds keys: the single Redis, or
 * each master of a Cluster. SCAN on a Cluster client goes to one node at random, so a plain scan
 * there would see about a third of the keys of a three-master cluster.
 */
export async function* scanKeys(
  redis: RedisClient,
  pattern: string,
  count = 1000,
): AsyncGenerator<string[]> {
  const nodes: Redis[] = isCluster(redis) ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length) yield keys;
    } while (cursor !== '0');
  }
}

/**
 * Deletes every key matching `pattern` (SCAN, so it never blocks a shared Redis). On a Cluster
 * the keys of one batch lie in many slots, which one UNLINK cannot span: each goes on its own,
 * through the cluster client so that a slot moved meanwhile is followed.
 */
export async function deleteMatchingKeys(redis: RedisClient, pattern: string): Promise<number> {
  let deleted = 0;
  for await (const keys of scanKeys(redis, pattern)) {
    if (isCluster(redis)) {
      const counts = await Promise.all(keys.map((key) => redis.unlink(key)));
      deleted += counts.reduce((sum, n) => sum + n, 0);
    } else {
      deleted += await redis.unlink(...keys);
    }
  }
  return deleted;
}
