/**
 * `npm run bench`: what one process of each type carries, against bare Node and Socket.IO in the
 * same run. Prints progress and a summary, and writes the figures to bench/results/.
 *
 *   npm run bench -- [--only intake,memory,fanout,e2e,cluster] [--seconds N] [--rates 100,500]
 *                    [--hold N] [--shards 3,6,12] [--masters 3] [--split-concurrency] [--pin-redis] [--rounds N]
 *                    [--smoke]
 *   npm run bench -- --only delivery [--delivery-rates 1000,2000,4000,8000] [--seconds N]
 *                    [--events-per-message 1] [--one-socket] [--publish-every-ms 5]
 *                    [--rounds N]
 *   npm run bench -- --only store [--store-rows N] [--store-history N] [--batches 1,10,50,100]
 *                    [--rounds N]
 *
 * `--smoke` runs every benchmark for a moment with small numbers: it checks that the harness
 * works (CI runs it), not how fast anything is. `store` loads tens of millions of rows into
 * PostgreSQL, so it runs only when named (`--only store`, with or without `--smoke`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../test/helpers/processes.js';
import { benchIntake } from './intake.js';
import { benchEndToEnd, benchFanOut, benchMemory } from './realtime.js';
import { benchCluster, clusterSummary } from './cluster.js';
import { benchStore, storeSummary } from './store.js';
import { benchDelivery, deliverySummary } from './delivery.js';
import { pinAllButRedis } from './cpu-pinning.js';

const BENCHMARKS = ['intake', 'e2e', 'fanout', 'memory', 'cluster', 'delivery', 'store'] as const;
type BenchmarkName = (typeof BENCHMARKS)[number];
const BY_DEFAULT = BENCHMARKS.filter((name) => name !== 'store');

function readOptions() {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      seconds: { type: 'string' },
      rates: { type: 'string' },
      hold: { type: 'string' },
      shards: { type: 'string' },
      masters: { type: 'string' },
      rounds: { type: 'string' },
      'store-rows': { type: 'string' },
      'store-history': { type: 'string' },
      batches: { type: 'string' },
      'delivery-rates': { type: 'string' },
      'events-per-message': { type: 'string' },
      'one-socket': { type: 'boolean', default: false },
      'publish-every-ms': { type: 'string' },
      'split-concurrency': { type: 'boolean', default: false },
      'pin-redis': { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
    },
  });
  const fail = (message: string): never => {
    process.stderr.write(`bench: ${message}\n`);
    process.exit(2);
  };
  const only = (values.only?.split(',') ?? [...BY_DEFAULT]).map((name) => name.trim());
  for (const name of only) {
    if (!(BENCHMARKS as readonly string[]).includes(name)) {
      fail(`unknown benchmark "${name}"; there are: ${BENCHMARKS.join(', ')}`);
    }
  }
  const seconds = Number(values.seconds ?? (values.smoke ? 1 : 10));
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) {
    fail('--seconds must be a number of seconds from 0 to 600');
  }
  const ratesOf = (fallback: string[]) => {
    const rates = (values.rates?.split(',') ?? (values.smoke ? ['20'] : fallback)).map(Number);
    if (rates.some((rate) => !Number.isInteger(rate) || rate <= 0 || rate > 100_000)) {
      fail('--rates must be events/s, whole numbers from 1 to 100000, separated by commas');
    }
    return rates;
  };
  const rates = ratesOf(['100', '500', '1000', '2000']);
  // The cluster mode runs every rate on four or more topologies: two rates, where batching
  // differs (docs/BENCHMARKS.md), keep it to a few minutes.
  const clusterRates = ratesOf(['500', '1000']);
  // Published straight to the feed channels, so far past what the pipeline carries here.
  const deliveryRates = (
    values['delivery-rates']?.split(',') ??
    (values.smoke ? ['50', '100'] : ['1000', '2000', '4000', '8000'])
  ).map(Number);
  if (
    deliveryRates.length < 2 ||
    deliveryRates.some((r) => !Number.isInteger(r) || r <= 0 || r > 100_000)
  ) {
    fail('--delivery-rates must be two or more events/s, whole numbers from 1 to 100000');
  }
  const perMessage = Number(values['events-per-message'] ?? 1);
  if (!Number.isInteger(perMessage) || perMessage < 1 || perMessage > 100) {
    fail('--events-per-message must be a whole number from 1 to 100');
  }
  const publishEveryMs = Number(values['publish-every-ms'] ?? 5);
  if (!Number.isInteger(publishEveryMs) || publishEveryMs < 1 || publishEveryMs > 1000) {
    fail('--publish-every-ms must be a whole number of ms from 1 to 1000');
  }
  const shards = (values.shards?.split(',') ?? (values.smoke ? ['3'] : ['3', '6', '12'])).map(
    Number,
  );
  if (shards.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) {
    fail('--shards must be QUEUE_SHARDS values from 1 to 64, separated by commas');
  }
  const masters = (values.masters?.split(',') ?? ['3']).map(Number);
  if (masters.some((n) => !Number.isInteger(n) || n < 1 || n > 6)) {
    fail('--masters must be cluster sizes from 1 to 6 masters, separated by commas');
  }
  const rounds = Number(values.rounds ?? 1);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 10) {
    fail('--rounds must be a whole number from 1 to 10');
  }
  const count = (name: string, given: string | undefined, fallback: number, max: number) => {
    const n = Number(given ?? fallback);
    if (!Number.isInteger(n) || n < 1000 || n > max) {
      fail(`--${name} must be a whole number of rows from 1000 to ${max}`);
    }
    return n;
  };
  const storeRows = count('store-rows', values['store-rows'], values.smoke ? 3000 : 3_000_000, 1e8);
  const storeHistory = count(
    'store-history',
    values['store-history'],
    values.smoke ? 5000 : 20_000_000,
    2e8,
  );
  // The group commit's batches: one event alone, up to MAX_EVENTS_PER_JOB (100) under load.
  const batches = (
    values.batches?.split(',') ?? (values.smoke ? ['1', '10'] : ['1', '10', '50', '100'])
  ).map(Number);
  if (batches.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) {
    fail('--batches must be batch sizes from 1 to 1000, separated by commas');
  }
  const hold = Number(values.hold ?? (values.smoke ? 2 : 60));
  if (!Number.isFinite(hold) || hold < 0 || hold > 3600) {
    fail('--hold must be a number of seconds from 0 (no hold) to 3600');
  }
  return {
    only: only as BenchmarkName[],
    seconds,
    rates,
    clusterRates,
    hold,
    shards,
    masters,
    rounds,
    splitConcurrency: values['split-concurrency'],
    pinRedis: values['pin-redis'],
    delivery: {
      rates: deliveryRates,
      streamers: values.smoke ? 20 : 300,
      perMessage,
      oneSocket: values['one-socket'],
      publishEveryMs,
    },
    store: {
      rows: storeRows,
      historyRows: storeHistory,
      batches,
      // Medians need rounds: 7 unless asked.
      rounds: values.rounds === undefined ? (values.smoke ? 2 : 7) : rounds,
    },
    smoke: values.smoke,
  };
}

const log = (line: string) => process.stdout.write(`${line}\n`);

async function main() {
  const options = readOptions();
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
  log(
    `bench: ${options.only.join(', ')}${options.smoke ? ' (smoke)' : ''} on ${machine.cpus} CPUs, Node ${machine.node}`,
  );
  const results: Record<string, unknown> = {};
  const rows: Array<[string, string]> = [];

  if (options.only.includes('intake')) {
    log('intake: signed webhooks, web vs a bare Node server');
    const intake = await benchIntake({
      seconds: options.seconds,
      connections: options.smoke ? 4 : 32,
      log,
    });
    results.intake = intake;
    rows.push(
      [
        'intake web req/s',
        `${intake.web.perSecond} (p50 ${intake.web.latencyMs.p50} ms, p99 ${intake.web.latencyMs.p99} ms)`,
      ],
      [
        'intake bare req/s',
        `${intake.bare.perSecond} (p50 ${intake.bare.latencyMs.p50} ms, p99 ${intake.bare.latencyMs.p99} ms)`,
      ],
      ['intake ratio web/bare', `${intake.ratio} (target >= 0.5)`],
      ['intake answers (web)', JSON.stringify(intake.web.statuses)],
    );
  }

  if (options.only.includes('e2e')) {
    log('e2e: webhook to socket through every process type, at fixed rates');
    const e2e = await benchEndToEnd({
      rates: options.rates,
      seconds: options.seconds,
      holdSeconds: options.hold,
      ...(options.smoke ? {} : { warmUp: { rate: 300, seconds: 5 } }),
      watchers: options.smoke ? 20 : 1000,
      streamers: options.smoke ? 10 : 100,
      log,
    });
    results.e2e = e2e;
    for (const step of e2e.steps) {
      rows.push([
        `e2e ${step.rate}/s, ${step.watchers} watchers`,
        `p50 ${step.latencyMs.p50} ms, p90 ${step.latencyMs.p90} ms, p99 ${step.latencyMs.p99} ms; lost ${step.lost}, duplicated ${step.duplicated}; backlog ${step.backlogGrowing ? 'growing' : 'steady'}; Redis ${step.redis.cpuMsPerEvent} ms CPU and ${step.redis.commandsPerEvent} commands per event; CPU ms per event ${JSON.stringify(step.cpuMsPerEvent)}`,
      ]);
    }
    const { hold } = e2e;
    rows.push([
      'e2e highest rate held',
      options.hold === 0
        ? 'not run (--hold 0)'
        : hold
          ? `${hold.rate}/s for ${hold.seconds} s: p99 ${hold.latencyMs.p99} ms, lost ${hold.lost}, duplicated ${hold.duplicated}, backlog ${hold.backlogGrowing ? 'growing' : 'steady'} -> ${hold.held ? 'held' : 'NOT held'}`
          : 'none: no rate had p99 under 1 s',
    ]);
    if (hold) rows.push(['e2e RSS under load (MiB)', JSON.stringify(hold.rssUnderLoadMiB)]);
  }

  if (options.only.includes('fanout')) {
    log('fan-out: one streamer, many sockets; pipeline vs bare Socket.IO');
    const fanOut = await benchFanOut({
      sockets: options.smoke ? 50 : 10_000,
      events: options.smoke ? 3 : 20,
      log,
    });
    results.fanout = fanOut;
    rows.push(
      [
        `fan-out pipeline deliveries/s`,
        `${fanOut.pipeline.deliveriesPerSecond} (${fanOut.sockets} sockets, ${fanOut.events} events; p99 ${fanOut.pipeline.latencyMs.p99} ms)`,
      ],
      [
        `fan-out bare deliveries/s`,
        `${fanOut.bare.deliveriesPerSecond} (p99 ${fanOut.bare.latencyMs.p99} ms)`,
      ],
      ['fan-out ratio pipeline/bare', `${fanOut.ratio} (target >= 0.8)`],
    );
  }

  if (options.only.includes('memory')) {
    log('memory: RSS at rest, and per idle watching socket');
    const memory = await benchMemory({ sockets: options.smoke ? 50 : 5000, log });
    results.memory = memory;
    rows.push(
      [
        'memory per idle socket',
        `${Math.round(memory.bytesPerSocket / 1024)} KB (${memory.sockets} sockets; target <= 25 KB)`,
      ],
      ['memory RSS at rest (MiB)', JSON.stringify(memory.rssAtRestMiB)],
    );
  }

  if (options.only.includes('cluster')) {
    log('cluster: the e2e load on a single Redis, then on a 3-master cluster, same rates');
    const unpin = options.pinRedis ? pinAllButRedis() : () => undefined;
    let cluster;
    try {
      cluster = await benchCluster({
        rates: options.clusterRates,
        seconds: options.seconds,
        ...(options.smoke ? {} : { warmUp: { rate: 300, seconds: 5 } }),
        watchers: options.smoke ? 30 : 600,
        streamers: options.smoke ? 30 : 300,
        queueShards: options.shards,
        masters: options.masters,
        splitConcurrency: options.splitConcurrency,
        pinRedis: options.pinRedis,
        rounds: options.rounds,
        log,
      });
    } finally {
      unpin();
    }
    results.cluster = cluster;
    rows.push(...clusterSummary(cluster));
  }

  if (options.only.includes('delivery')) {
    log('delivery: feed messages published straight to two realtime nodes, by share watched');
    const delivery = await benchDelivery({
      ...options.delivery,
      seconds: options.seconds,
      rounds: options.rounds,
      log,
    });
    results.delivery = delivery;
    rows.push(...deliverySummary(delivery));
  }

  if (options.only.includes('store')) {
    log('store: the event store in PostgreSQL, a database of its own');
    const store = await benchStore({
      ...options.store,
      seedEvents: options.smoke ? 300 : 50_000,
      streamers: options.smoke ? 50 : 10_000,
      stepEvents: options.smoke ? 30 : 3000,
      extraPartitions: options.smoke ? [0, 2] : [0, 26, 90],
      readSamples: options.smoke ? 5 : 200,
      log,
    });
    results.store = store;
    rows.push(...storeSummary(store));
  }

  log('\n=== summary ===');
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, value] of rows) log(`${name.padEnd(width)}  ${value}`);
  const dir = path.join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ at: new Date().toISOString(), machine, options, results }, null, 2)}\n`,
  );
  log(`results written to ${path.relative(repoRoot, file)}`);
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
