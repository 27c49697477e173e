import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { isCluster, type RedisClient } from '../shared/connections/redis.js';
import { socketIoKey } from '../shared/realtime-protocol.js';

/**
 * Socket.IO's own traffic between nodes (serverSideEmit, fetchSockets; events are not on it).
 * On a single Redis it is the classic adapter, whose channels emitters of earlier versions
 * still publish to. On a Cluster it is the sharded adapter with two channels per node
 * ("static"): a plain PUBLISH there is copied to every node of the cluster, and "dynamic" would
 * SSUBSCRIBE once more per watched room, which the feed subscriptions already do.
 */
export function socketIoAdapter(pub: RedisClient, sub: RedisClient, prefix: string) {
  if (isCluster(pub) !== isCluster(sub)) {
    throw new Error('The Socket.IO adapter needs two Cluster clients or two single-Redis ones');
  }
  if (isCluster(sub) && !sub.options.shardedSubscribers) {
    // Without it ioredis sends SSUBSCRIBE to one node of its choice, which answers MOVED.
    throw new Error(
      'A Cluster Socket.IO subscriber needs the ioredis option shardedSubscribers: true',
    );
  }
  return isCluster(pub)
    ? createShardedAdapter(pub, sub, {
        channelPrefix: socketIoKey(prefix),
        subscriptionMode: 'static',
      })
    : createAdapter(pub, sub, { key: socketIoKey(prefix) });
}
