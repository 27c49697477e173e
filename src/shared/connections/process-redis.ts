import type { RedisConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { clusterProblem } from './cluster-state.js';
import {
  closeRedis,
  createRedis,
  type RedisClient,
  type RedisRole,
  type RedisTarget,
} from './redis.js';
import type { RedisOptions } from 'ioredis';

/** Every Redis connection of one process, made one way and closed together. */
export interface ProcessRedis {
  readonly target: RedisTarget;
  /** REDIS_CLUSTER_NODES is set: keys used together must share a hash tag. */
  readonly isCluster: boolean;
  connect(name: string, role: RedisRole, extra?: Partial<RedisOptions>): RedisClient;
  close(): Promise<void>;
}

/**
 * The Redis of a process. On a cluster the process does not start until the cluster answers
 * `cluster_state:ok`: one line on stderr says why not, and it exits 1, as a bad config does. A
 * single Redis is waited for instead, as before (workers wait forever, web serves without it).
 */
export async function openProcessRedis(
  config: { redis: RedisConfig },
  processName: string,
  log: Logger,
): Promise<ProcessRedis> {
  const { cluster } = config.redis;
  if (cluster) {
    const problem = await clusterProblem(cluster);
    if (problem) {
      process.stderr.write(`streamfeed ${processName}: cannot start, ${problem}\n`);
      process.exit(1);
    }
  }
  const clients: RedisClient[] = [];
  return {
    target: config.redis,
    isCluster: cluster !== undefined,
    connect(name, role, extra) {
      const client = createRedis(config.redis, name, role, log, extra);
      clients.push(client);
      return client;
    },
    close: () => Promise.all(clients.map(closeRedis)).then(() => undefined),
  };
}
