import calculateSlot from 'cluster-key-slot';
import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from '../../shared/connections/redis.js';

/** Fewer replicas than REDIS_ACK_REPLICAS had the job when the bound ran out. */
export class ReplicaAckError extends Error {
  constructor(
    readonly wanted: number,
    readonly acknowledged: number,
    timeoutMs: number,
  ) {
    super(
      `${acknowledged} of ${wanted} replica(s) acknowledged the job within ${timeoutMs} ms (REDIS_ACK_REPLICAS)`,
    );
    this.name = 'ReplicaAckError';
  }
}

/**
 * Waits until `replicas` replicas of the master that holds a queue have every write made so far
 * on its connection, the job just added included (`WAIT`): what `web` does before answering 202
 * when REDIS_ACK_REPLICAS is set, so that the callback survives that master's failover.
 * Replication stays asynchronous: WAIT narrows the window, it does not close it (a replica that
 * has the write can still lose an election to one that has not; docs/OPERATIONS.md).
 *
 * WAIT must go on the connection that wrote the job. On a single Redis that is `redis` itself; on
 * a cluster it is the node connection that owns the queue's slot, which is the one ioredis routed
 * the job's script to.
 */
export function createReplicaAck(redis: RedisClient, replicas: number, timeoutMs: number) {
  const connectionFor = (queueKey: string): Redis => {
    if (!(redis instanceof Cluster)) return redis;
    const slot = calculateSlot(queueKey);
    const [owner] = (redis as Cluster & { slots: string[][] }).slots[slot] ?? [];
    const node = redis
      .nodes('master')
      .find((candidate) => `${candidate.options.host}:${candidate.options.port}` === owner);
    if (!node) throw new Error(`No connection to the master of slot ${slot} (${queueKey})`);
    return node;
  };
  return async (queueKey: string): Promise<void> => {
    const acknowledged = await connectionFor(queueKey).wait(replicas, timeoutMs);
    if (acknowledged < replicas) throw new ReplicaAckError(replicas, acknowledged, timeoutMs);
  };
}
