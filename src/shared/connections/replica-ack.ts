import calculateSlot from 'cluster-key-slot';
import type { Redis } from 'ioredis';
import { isCluster, type RedisClient } from './redis.js';

/** Fewer replicas than REDIS_ACK_REPLICAS had the job when the bound ran out. */
export class ReplicaAckError extends Error {
  constructor(
    readonly wanted: number,
    readonly acknowledged: number,
    timeoutMs: number,
  ) {
    super(
      `${acknowledged} of ${wanted} replica(s) acknowledged the write within ${timeoutMs} ms (REDIS_ACK_REPLICAS)`,
    );
    this.name = 'ReplicaAckError';
  }
}

/**
 * Waits until `replicas` replicas of the master that holds `key` have every write made so far on
 * its connection (`WAIT`), for REDIS_ACK_REPLICAS: `web` before answering 202 (the callback's
 * job), the processor before it notifies (the streamer's feed entry) and before a callback job
 * completes (its notify and storage batches), so that what was acknowledged, numbered or
 * announced survives that master's failover.
 * Replication stays asynchronous: WAIT narrows the window, it does not close it (a replica that
 * has the write can still lose an election to one that has not; docs/OPERATIONS.md).
 *
 * WAIT must go on the connection that wrote the job. On a single Redis that is `redis` itself; on
 * a cluster it is the node connection that owns the queue's slot, which is the one ioredis routed
 * the write to.
 */
export function createReplicaAck(redis: RedisClient, replicas: number, timeoutMs: number) {
  const connectionFor = (key: string): Redis => {
    if (!isCluster(redis)) return redis;
    const slot = calculateSlot(key);
    const [owner] = redis.slots[slot] ?? [];
    const node = redis
      .nodes('master')
      .find((candidate) => `${candidate.options.host}:${candidate.options.port}` === owner);
    if (!node) throw new Error(`No connection to the master of slot ${slot} (${key})`);
    return node;
  };
  return async (key: string): Promise<void> => {
    const acknowledged = await connectionFor(key).wait(replicas, timeoutMs);
    if (acknowledged < replicas) throw new ReplicaAckError(replicas, acknowledged, timeoutMs);
  };
}
