import { Redis } from 'ioredis';
import type { RedisConfig } from '../config.js';

type ClusterTarget = NonNullable<RedisConfig['cluster']>;

const described = (cluster: ClusterTarget) =>
  cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(',');

/** One seed's CLUSTER INFO, as `field -> value`. */
async function clusterInfo(
  cluster: ClusterTarget,
  node: { host: string; port: number },
  timeoutMs: number,
): Promise<Map<string, string>> {
  const probe = new Redis({
    host: node.host,
    port: node.port,
    ...(cluster.tls ? { tls: {} } : {}),
    ...(cluster.username ? { username: cluster.username } : {}),
    ...(cluster.password ? { password: cluster.password } : {}),
    connectionName: 'streamfeed:cluster-check',
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // connect() rejects with "Connection is closed"; the cause is in the error event.
  let cause: Error | undefined;
  probe.on('error', (error: Error) => (cause ??= error));
  try {
    await probe.connect().catch((error: Error) => {
      throw cause ?? error;
    });
    const text = (await probe.call('CLUSTER', 'INFO')) as string;
    return new Map(
      text
        .split(/\r?\n/)
        .filter((line) => line.includes(':'))
        .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
    );
  } finally {
    probe.disconnect();
  }
}

/**
 * Why the cluster of REDIS_CLUSTER_NODES cannot be used, or null when it is in
 * `cluster_state:ok`. The first seed that answers decides; a seed that is a Redis without
 * cluster mode is a mistake of configuration, said as such.
 */
export async function clusterProblem(
  cluster: ClusterTarget,
  timeoutMs = 5000,
): Promise<string | null> {
  const failures: string[] = [];
  for (const node of cluster.nodes) {
    let info: Map<string, string>;
    try {
      info = await clusterInfo(cluster, node, timeoutMs);
    } catch (error) {
      const message = (error as Error).message;
      if (/cluster support disabled/i.test(message)) {
        return `REDIS_CLUSTER_NODES: ${node.host}:${node.port} is a Redis without cluster mode (use REDIS_URL for it)`;
      }
      failures.push(`${node.host}:${node.port}: ${message}`);
      continue;
    }
    const state = info.get('cluster_state');
    if (state === 'ok') return null;
    return `Redis Cluster at ${described(cluster)} is not usable: cluster_state:${state ?? 'unknown'} (slots assigned ${info.get('cluster_slots_assigned') ?? '?'} of 16384, ${info.get('cluster_slots_fail') ?? '?'} failing, ${info.get('cluster_known_nodes') ?? '?'} nodes known)`;
  }
  return `Redis Cluster at ${described(cluster)} cannot be reached: ${failures.join('; ')}`;
}
