import { startPrivateRedis } from '../test/helpers/private-redis.js';
import { startRedisCluster } from '../test/helpers/redis-cluster.js';
import { pinRedis } from './cpu-pinning.js';
import { benchEndToEnd, type EndToEndStep } from './realtime.js';

type Log = (line: string) => void;

/** One topology's run: a single Redis, or the cluster with one QUEUE_SHARDS. */
export interface TopologyRun {
  topology: 'single' | 'cluster';
  /** The cluster's masters (1 for the single Redis). */
  masters: number;
  queueShards: number;
  /** PROCESSOR_CONCURRENCY and EMITTER_CONCURRENCY times QUEUE_SHARDS: each shard as much in flight as the single Redis's one queue. */
  splitConcurrency: boolean;
  round: number;
  steps: EndToEndStep[];
}

export interface ClusterResult {
  streamers: number;
  watchers: number;
  runs: TopologyRun[];
}

/**
 * The e2e load (real processes, signed webhooks, `streamers` streamers, `watchers` sockets over
 * two realtime nodes) first on a redis-server of its own and then on a cluster of its own per
 * `masters` choice (3 by default; 1 measures cluster mode's own cost, apart from spreading the
 * work over servers), once per QUEUE_SHARDS choice, at the same rates; `rounds` times over. Both
 * run on free ports without persistence, so the shared 6379 is not measured, and the single
 * server does the work that the cluster's masters share.
 */
export async function benchCluster(options: {
  rates: number[];
  seconds: number;
  warmUp?: { rate: number; seconds: number };
  watchers: number;
  streamers: number;
  queueShards: number[];
  masters?: number[];
  /**
   * Also runs each shard choice with the concurrency of versions before it was per shard:
   * PROCESSOR_CONCURRENCY and EMITTER_CONCURRENCY divided by the shards.
   */
  splitConcurrency?: boolean;
  /** Redis on CPU 0 of its own, the rest on the other CPUs (cpu-pinning.ts). */
  pinRedis?: boolean;
  rounds: number;
  log: Log;
}): Promise<ClusterResult> {
  const runs: TopologyRun[] = [];
  const load = {
    rates: options.rates,
    seconds: options.seconds,
    holdSeconds: 0,
    ...(options.warmUp && { warmUp: options.warmUp }),
    watchers: options.watchers,
    streamers: options.streamers,
    log: options.log,
  };
  for (let round = 1; round <= options.rounds; round++) {
    options.log(`  cluster: round ${round}, a single redis-server`);
    const single = await startPrivateRedis({ appendOnly: false });
    try {
      if (options.pinRedis) await pinRedis([single.port]);
      const { steps } = await benchEndToEnd({
        ...load,
        stack: { redisUrl: single.url, env: { QUEUE_SHARDS: '1' } },
        redisPorts: [single.port],
      });
      runs.push({
        topology: 'single',
        masters: 1,
        queueShards: 1,
        splitConcurrency: false,
        round,
        steps,
      });
    } finally {
      await single.destroy();
    }
    for (const masters of options.masters ?? [3]) {
      runs.push(...(await onCluster(masters, round)));
    }
  }
  return { streamers: options.streamers, watchers: options.watchers, runs };

  async function onCluster(masters: number, round: number): Promise<TopologyRun[]> {
    const runs: TopologyRun[] = [];
    const cluster = await startRedisCluster({ masters });
    try {
      const ports = (await cluster.masters()).map((master) => master.port);
      if (options.pinRedis) await pinRedis(ports);
      const choices = options.queueShards.flatMap((shards) =>
        options.splitConcurrency && shards > 1
          ? [
              { shards, split: false },
              { shards, split: true },
            ]
          : [{ shards, split: false }],
      );
      for (const { shards, split } of choices) {
        // The defaults (config.ts) are per shard; split, one process has as much over all.
        const concurrency: Record<string, string> = split
          ? {
              PROCESSOR_CONCURRENCY: String(Math.max(1, Math.round(64 / shards))),
              EMITTER_CONCURRENCY: String(Math.max(1, Math.round(16 / shards))),
            }
          : {};
        options.log(
          `  cluster: round ${round}, ${masters} masters, QUEUE_SHARDS=${shards}${split ? `, concurrency / ${shards}` : ''}`,
        );
        const { steps } = await benchEndToEnd({
          ...load,
          stack: { cluster, env: { QUEUE_SHARDS: String(shards), ...concurrency } },
          redisPorts: ports,
        });
        runs.push({
          topology: 'cluster',
          masters,
          queueShards: shards,
          splitConcurrency: split,
          round,
          steps,
        });
      }
    } finally {
      await cluster.stop();
    }
    return runs;
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** One summary line per topology and rate: medians over the rounds. */
export function clusterSummary(result: ClusterResult): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  const single = result.runs.filter((run) => run.topology === 'single');
  const configOf = (run: TopologyRun) =>
    `${run.topology}:${run.masters}:${run.queueShards}:${run.splitConcurrency ? 'split' : ''}`;
  const configs = [...new Set(result.runs.map(configOf))];
  for (const config of configs) {
    const [topology, masters, shards, split] = config.split(':') as [
      'single' | 'cluster',
      string,
      string,
      string,
    ];
    const runs = result.runs.filter((run) => configOf(run) === config);
    for (const [i, { rate }] of runs[0]!.steps.entries()) {
      const steps = runs.map((run) => run.steps[i]!);
      const cpu = median(steps.map((step) => step.redis.cpuMsPerEvent));
      const commands = median(steps.map((step) => step.redis.commandsPerEvent));
      const singleCpu = median(single.map((run) => run.steps[i]!.redis.cpuMsPerEvent));
      const maxShare = median(
        steps.map((step) => Math.max(...step.redisServers.map((server) => server.commandShare))),
      );
      const shares = steps
        .map((step) =>
          step.redisServers.map((server) => `${Math.round(server.commandShare * 100)}%`).join('/'),
        )
        .join(', ');
      const lost = steps.reduce((sum, step) => sum + step.lost + step.duplicated, 0);
      const name =
        topology === 'single'
          ? `cluster bench, single ${rate}/s`
          : `cluster ${masters} masters ${shards} shards${split ? ` concurrency / ${shards}` : ''} ${rate}/s`;
      rows.push([
        name,
        `p50 ${median(steps.map((s) => s.latencyMs.p50))} ms, p99 ${median(steps.map((s) => s.latencyMs.p99))} ms; ` +
          `Redis ${cpu.toFixed(3)} ms CPU and ${commands} commands per event` +
          (topology === 'cluster'
            ? `, ${(cpu / singleCpu).toFixed(2)}x the single's CPU (target <= 1.2); command shares ${shares}, largest ${Math.round(maxShare * 100)}% (target <= 40%)`
            : '') +
          `; lost or duplicated ${lost}`,
      ]);
    }
  }
  return rows;
}
