import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';

/**
 * `--pin-redis`: Redis on a core of its own, everything else on the others (#13). On this 2-core
 * box three masters otherwise share both cores with a dozen busy Node and PostgreSQL processes,
 * and each command costs them more for it; pinned, a single Redis and a cluster's masters get the
 * same one core, undisturbed, so what the cluster costs more is the cluster's own. (Masters on
 * hosts of their own, as ElastiCache runs them, each have a core: pinned, three share one.)
 */
const cpuCount = () => Number(execFileSync('nproc', ['--all'], { encoding: 'utf8' }).trim());

export const REDIS_CPU = 0;
const restCpus = () => `1-${cpuCount() - 1}`;

/** Sets the CPUs every thread of `pid` may run on (taskset, util-linux). */
function pin(pid: number, cpus: string) {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/** The redis-server on each port, by the pid it reports. */
async function redisPids(ports: number[]): Promise<number[]> {
  return Promise.all(
    ports.map(async (port) => {
      const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
      try {
        await client.connect();
        return Number(/^process_id:(\d+)/m.exec(await client.info('server'))?.[1]);
      } finally {
        client.disconnect();
      }
    }),
  );
}

/** Every process of the machine's PostgreSQL: the postmaster's children inherit its CPUs. */
function postgresPids(): number[] {
  try {
    return execFileSync('pgrep', ['-x', 'postgres'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Moves this process (and so the stacks it starts) and PostgreSQL off the Redis core. Returns
 * the undo, for the benchmarks after this one and for PostgreSQL, which outlives the bench.
 */
export function pinAllButRedis(): () => void {
  if (cpuCount() < 2) throw new Error('--pin-redis needs at least 2 CPUs');
  pin(process.pid, restCpus());
  const postgres = postgresPids();
  for (const pid of postgres) pin(pid, restCpus());
  return () => {
    pin(process.pid, `0-${cpuCount() - 1}`);
    for (const pid of postgresPids()) {
      try {
        pin(pid, `0-${cpuCount() - 1}`);
      } catch {
        // gone meanwhile
      }
    }
  };
}

/** Puts the redis-servers on `ports` onto the Redis core. */
export async function pinRedis(ports: number[]): Promise<void> {
  for (const pid of await redisPids(ports)) pin(pid, String(REDIS_CPU));
}
