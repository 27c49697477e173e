import type { RedisClient } from '../../src/shared/connections/redis.js';
import { deleteMatchingKeys } from '../../src/shared/connections/scan-keys.js';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Deletes every key of a test's own prefix, on a single Redis or every master of a Cluster. */
export async function deleteKeys(redis: RedisClient, prefix: string): Promise<void> {
  await deleteMatchingKeys(redis, `${prefix}:*`);
}
