import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from '../../src/shared/connections/redis.js';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Deletes every key of a test's own prefix (SCAN, so it never blocks a shared Redis). On a
 * cluster each master holds its own keys, so each is scanned.
 */
export async function deleteKeys(redis: RedisClient, prefix: string): Promise<void> {
  const nodes: Redis[] = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      // One by one on a cluster: keys of different slots cannot share a command.
      if (keys.length) await Promise.all(keys.map((key) => node.unlink(key)));
    } while (cursor !== '0');
  }
}
