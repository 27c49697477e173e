import { startRedisCluster, type RedisCluster } from './redis-cluster.js';

/**
 * `TEST_REDIS_TOPOLOGY=cluster` runs the suites built on startStack against a Redis Cluster of
 * their own (3 masters, started once per test run and stopped by test/support/topology.ts)
 * instead of the single Redis, so that both topologies run the same assertions.
 */
export const onCluster = process.env.TEST_REDIS_TOPOLOGY === 'cluster';

let shared: Promise<RedisCluster> | undefined;

export function sharedTestCluster(): Promise<RedisCluster> {
  shared ??= startRedisCluster({ masters: 3 });
  return shared;
}

export async function stopSharedTestCluster(): Promise<void> {
  if (!shared) return;
  const cluster = await shared.catch(() => undefined);
  shared = undefined;
  await cluster?.stop();
}
