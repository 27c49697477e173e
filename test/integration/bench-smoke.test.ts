import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/processes.js';

interface BenchFile {
  machine: { cpus: number; node: string };
  results: {
    intake: { web: { perSecond: number }; bare: { perSecond: number }; ratio: number };
    e2e: {
      steps: Array<{
        lost: number;
        duplicated: number;
        delivered: number;
        expectedDeliveries: number;
      }>;
      hold: { rate: number; rssUnderLoadMiB: Record<string, number> } | null;
    };
    fanout: { pipeline: { deliveriesPerSecond: number }; bare: { deliveriesPerSecond: number } };
    memory: { bytesPerSocket: number; rssAtRestMiB: Record<string, number> };
    delivery: {
      results: Array<{
        topology: 'single' | 'cluster';
        phases: Array<{
          shares: Record<'realtime1' | 'realtime2', 'none' | 'half' | 'all'>;
          steps: Array<
            { events: number; short: string[] } & Record<
              'realtime1' | 'realtime2',
              { deliveries: number }
            >
          >;
        }>;
      }>;
    };
    cluster: {
      runs: Array<{
        topology: 'single' | 'cluster';
        steps: Array<{
          lost: number;
          duplicated: number;
          redis: { commandsPerEvent: number };
          redisServers: Array<{ commandShare: number; cpuMsPerEvent: number }>;
        }>;
      }>;
    };
  };
}

interface StoreFile {
  sizes: { rows: number; bytes: { heap: number; indexes: number; toast: number; total: number } };
  archive: { ndjsonPerEvent: number; gzipPerEvent: number };
  inserts: {
    summary: Array<{ batch: number }>;
    steps: Array<{ clientUs: number; backendUs: number }>;
  };
  history: { rows: number; reads: Array<{ rows: number; plans: unknown[] }> };
  partitionCounts: Array<{ partitions: number }>;
}

function runBench(args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', ...args],
      { cwd: repoRoot, env: { PATH: process.env.PATH ?? '' }, maxBuffer: 16 * 1024 * 1024 },
      (error, out, err) =>
        resolve({ code: error ? Number(error.code) : 0, stdout: out, stderr: err }),
    );
  });
}

// Whether the harness still works end to end; its figures are for `npm run bench`, not CI.
describe('npm run bench -- --smoke', function () {
  this.timeout(300_000);

  it('runs every benchmark briefly, prints the summary and writes the figures', async () => {
    const { code, stdout, stderr } = await new Promise<{
      code: number;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'bench/run.ts', '--smoke'],
        { cwd: repoRoot, env: { PATH: process.env.PATH ?? '' }, maxBuffer: 16 * 1024 * 1024 },
        (error, out, err) =>
          resolve({ code: error ? Number(error.code) : 0, stdout: out, stderr: err }),
      );
    });
    assert.equal(code, 0, stderr || stdout);
    for (const row of [
      'intake ratio web/bare',
      'e2e 20/s, 20 watchers',
      'fan-out ratio pipeline/bare',
      'memory per idle socket',
      'cluster bench, single 20/s',
      'cluster 3 masters 3 shards 20/s',
      'delivery single: idle node',
      'delivery single: half / all per event',
      'delivery cluster: idle node',
      'delivery cluster: half / all per event',
    ]) {
      assert.match(stdout, new RegExp(`^${row}`, 'm'));
    }
    const written = /^results written to (\S+)$/m.exec(stdout)?.[1];
    assert.ok(written, 'names the results file');
    const file = path.join(repoRoot, written);
    try {
      const { machine, results } = JSON.parse(readFileSync(file, 'utf8')) as BenchFile;
      assert.ok(machine.cpus > 0);
      assert.ok(results.intake.web.perSecond > 0 && results.intake.bare.perSecond > 0);
      assert.ok(results.intake.ratio > 0);
      for (const step of results.e2e.steps) {
        assert.equal(step.lost, 0);
        assert.equal(step.duplicated, 0);
        assert.equal(step.delivered, step.expectedDeliveries);
      }
      // Whether 20/s held depends on the machine; that a verdict was reached does not.
      assert.match(stdout, /^e2e highest rate held /m);
      if (results.e2e.hold) assert.ok(Object.keys(results.e2e.hold.rssUnderLoadMiB).length === 5);
      assert.ok(results.fanout.pipeline.deliveriesPerSecond > 0);
      assert.ok(results.fanout.bare.deliveriesPerSecond > 0);
      assert.ok(results.memory.bytesPerSocket > 0);
      // One private server, then the 3 masters, each with its share of the commands.
      const [single, cluster] = results.cluster.runs;
      assert.equal(single?.topology, 'single');
      assert.equal(cluster?.topology, 'cluster');
      assert.equal(single.steps[0]?.redisServers.length, 1);
      assert.equal(cluster.steps[0]?.redisServers.length, 3);
      for (const run of results.cluster.runs) {
        for (const step of run.steps) {
          assert.equal(step.lost + step.duplicated, 0);
          assert.ok(step.redis.commandsPerEvent > 0);
          const shares = step.redisServers.reduce((sum, server) => sum + server.commandShare, 0);
          assert.ok(Math.abs(shares - 1) < 0.01, `command shares sum to ${shares}`);
        }
      }
      // Each node delivered what it watches, all of it, and the idle one nothing.
      assert.deepEqual(
        results.delivery.results.map((run) => run.topology),
        ['single', 'cluster'],
      );
      for (const run of results.delivery.results) {
        assert.equal(run.phases.length, 3);
        for (const { shares, steps } of run.phases) {
          for (const step of steps) {
            assert.deepEqual(step.short, []);
            for (const node of ['realtime1', 'realtime2'] as const) {
              const delivered = step[node].deliveries;
              if (shares[node] === 'none') assert.equal(delivered, 0);
              if (shares[node] === 'all') assert.equal(delivered, step.events);
              if (shares[node] === 'half') assert.ok(delivered > 0 && delivered < step.events);
            }
          }
        }
      }
      assert.deepEqual(Object.keys(results.memory.rssAtRestMiB).sort(), [
        'emitter',
        'processor',
        'realtime1',
        'realtime2',
        'web',
      ]);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('runs the store benchmark briefly when named, with every figure it reports', async () => {
    const { code, stdout, stderr } = await runBench(['--only', 'store', '--smoke']);
    assert.equal(code, 0, stderr || stdout);
    for (const row of [
      'store bytes per event',
      'store archive bytes per event',
      'store insert batch 1 ',
      'store insert batch 10 ',
      'store reads hot',
      'store reads typical',
      'store reads, 4 partitions',
      'store reads, 6 partitions',
    ]) {
      assert.match(stdout, new RegExp(`^${row}`, 'm'));
    }
    const written = /^results written to (\S+)$/m.exec(stdout)?.[1];
    assert.ok(written, 'names the results file');
    const file = path.join(repoRoot, written);
    try {
      const { store } = (
        JSON.parse(readFileSync(file, 'utf8')) as { results: { store: StoreFile } }
      ).results;
      // Every row of the partition counted, and its bytes add up.
      assert.equal(store.sizes.rows, 3000);
      const { heap, indexes, toast, total } = store.sizes.bytes;
      assert.ok(heap > 0 && indexes > 0 && total >= heap + indexes + toast);
      assert.ok(store.archive.gzipPerEvent > 0);
      assert.ok(store.archive.gzipPerEvent < store.archive.ndjsonPerEvent);
      assert.deepEqual(
        store.inserts.summary.map((s) => s.batch),
        [1, 10],
      );
      for (const step of store.inserts.steps) {
        assert.ok(step.clientUs > 0 && step.backendUs > 0, JSON.stringify(step));
      }
      // Two rounds, both writers, both batch sizes.
      assert.equal(store.inserts.steps.length, 8);
      assert.equal(store.history.rows, 5000);
      assert.equal(store.history.reads.length, 3);
      for (const reads of store.history.reads) {
        assert.ok(reads.rows > 0);
        assert.ok(reads.plans.length >= 5, 'EXPLAINs every statement of the three reads');
      }
      assert.deepEqual(
        store.partitionCounts.map((p) => p.partitions),
        [4, 6],
      );
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('refuses an unknown benchmark, naming the ones there are', async () => {
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'bench/run.ts', '--only', 'intake,speed'],
        { cwd: repoRoot, env: { PATH: process.env.PATH ?? '' } },
        (error, _out, err) => resolve({ code: error ? Number(error.code) : 0, stderr: err }),
      );
    });
    assert.equal(code, 2);
    assert.match(
      stderr,
      /unknown benchmark "speed"; there are: intake, e2e, fanout, memory, cluster, delivery, store/,
    );
  });
});
