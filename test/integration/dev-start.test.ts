import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { io as connectSocket } from 'socket.io-client';
import type { StreamEvent } from '../../src/shared/events/event.js';
import { createRealtimeTokens } from '../../src/shared/realtime-token.js';
import { freePort, repoRoot } from '../helpers/processes.js';
import { deleteKeys, TEST_REDIS_URL } from '../helpers/redis.js';
import { createTestDatabase } from '../helpers/database.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';

const LAUNCHER = path.join(repoRoot, 'dist/dev/start.js');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
/** A port whose next four are free too: the launcher uses PORT to PORT+4. */
async function freePortRun(): Promise<number> {
  for (;;) {
    const port = await freePort();
    const next = await Promise.all([1, 2, 3, 4].map((i) => canListen(port + i)));
    if (port + 4 < 65536 && next.every(Boolean)) return port;
  }
}
const killGroup = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group has gone
  }
};
/** Linux: every process whose command line or environment names `text` (the temp data dir). */
function processesNaming(text: string): number[] {
  if (process.platform !== 'linux') return [];
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((pid) =>
      ['cmdline', 'environ'].some((file) => {
        try {
          return readFileSync(`/proc/${pid}/${file}`).includes(text);
        } catch {
          return false; // gone, or not ours to read
        }
      }),
    )
    .map(Number);
}

/**
 * A clone in a private folder (mode 0700, like one in /root): the sources as in the worktree,
 * node_modules as hard links (a copy where the file system has none). Nothing else can enter it.
 */
function privateClone(): { home: string; app: string } {
  const home = mkdtempSync(path.join(tmpdir(), 'sf-private-'));
  chmodSync(home, 0o700);
  const app = path.join(home, 'streamfeed');
  const files = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: repoRoot,
      encoding: 'utf8',
    },
  );
  for (const file of files.split('\0').filter(Boolean)) {
    if (!existsSync(path.join(repoRoot, file))) continue; // deleted in the worktree
    mkdirSync(path.dirname(path.join(app, file)), { recursive: true });
    cpSync(path.join(repoRoot, file), path.join(app, file));
  }
  try {
    execFileSync('cp', ['-al', path.join(repoRoot, 'node_modules'), app]);
  } catch {
    cpSync(path.join(repoRoot, 'node_modules'), path.join(app, 'node_modules'), {
      recursive: true,
      verbatimSymlinks: true,
    });
  }
  return { home, app };
}

const baseEnv = (port: number, simUrl: string, prefix: string) => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '/root',
  REDIS_PREFIX: prefix,
  ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {}),
  PORT: String(port),
  SIM_PORT: new URL(simUrl).port,
  LOG_LEVEL: 'warn',
});

describe('npm start: the whole stack from one command', function () {
  this.timeout(420_000);

  before(function () {
    if (existsSync(LAUNCHER)) return;
    this.timeout(300_000);
    execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  });

  it('starts from a private folder (as root too) on embedded PostgreSQL, with no npm warning, streams demo events, and stops on Ctrl-C', async () => {
    const { home, app } = privateClone();
    assert.equal(statSync(home).mode & 0o777, 0o700);
    const dataDir = path.join(app, '.data'); // the default
    let postgresDir = dataDir; // under root, PostgreSQL's data may live elsewhere
    const prefix = `t${randomBytes(5).toString('hex')}`;
    const port = await freePortRun();
    const simUrl = `http://127.0.0.1:${await freePort()}`;
    let output = '';
    let launcher: ChildProcessWithoutNullStreams | undefined;
    try {
      // `npm start` as typed in a terminal: its own process group, so Ctrl-C reaches all of it.
      // bash as the script shell (macOS's sh) execs the launcher: npm's exit code is then the
      // launcher's, and npm forwards the Ctrl-C the launcher already has.
      launcher = spawn('npm', ['start'], {
        cwd: app,
        detached: true,
        env: {
          ...baseEnv(port, simUrl, prefix),
          DEV_POSTGRES_PORT: String(await freePort()),
          npm_config_script_shell: 'bash',
        },
      });
      launcher.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      launcher.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => launcher!.once('exit', resolve));

      for (const deadline = Date.now() + 300_000; !/streamfeed: ready in /.test(output);) {
        if (Date.now() > deadline || launcher.exitCode !== null) {
          assert.fail(`not ready:\n${output}`);
        }
        await sleep(200);
      }
      const data = /PostgreSQL: embedded, data in (\S+).* \(first start: initialising…\)/.exec(
        output,
      );
      assert.ok(data, output);
      if (process.getuid?.() === 0) {
        // The postgres user cannot enter the clone: binaries and data go where it can, and say so.
        assert.match(
          output,
          /PostgreSQL: binaries in \/var\/lib\/streamfeed-dev\/postgres-\S+ \(user postgres cannot reach /,
        );
        const databaseDir = data[1]!;
        assert.ok(databaseDir.startsWith('/var/lib/streamfeed-dev/data-'), databaseDir);
        assert.ok(output.includes(`(user postgres cannot reach ${dataDir})`), output);
        postgresDir = path.dirname(databaseDir);
      }
      assert.doesNotMatch(output, /^npm (warn|error)/im, 'npm start prints no npm warning');
      assert.doesNotMatch(output, /^\s+at /m, 'no stack trace');
      assert.match(output, /migrations: done/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
      const pids = [...(/streamfeed: pids: (.*)/.exec(output)?.[1] ?? '').matchAll(/(\S+) (\d+)/g)];
      assert.deepEqual(
        pids.map((m) => m[1]).filter((name) => name !== 'redis-server'), // when none answered
        ['postgres', 'simulator', 'web', 'realtime-1', 'realtime-2', 'processor', 'emitter'],
        output,
      );

      await receiveDemoEvent(simUrl, port, path.join(dataDir, 'dev-secrets.json'), () => output);

      process.kill(-launcher.pid!, 'SIGINT'); // Ctrl-C: npm, its shell and the launcher
      assert.equal(await exited, 0, output.slice(-3000));
      assert.match(output, /streamfeed: stopped/);
      assert.doesNotMatch(output, /SIGKILL/, 'one Ctrl-C is a clean stop');
      const left = pids.map((m) => Number(m[2])).filter(alive);
      assert.deepEqual(left, [], 'no process of the stack left behind');
      assert.deepEqual(processesNaming(dataDir), [], 'nothing still uses the data folder');
      assert.deepEqual(processesNaming(postgresDir), [], "nothing still uses PostgreSQL's");
    } finally {
      const moved = /PostgreSQL: embedded, data in (\S+)\/postgres \(user postgres cannot/.exec(
        output,
      );
      if (moved) postgresDir = moved[1]!;
      if (launcher && launcher.exitCode === null && launcher.signalCode === null) {
        killGroup(launcher.pid!, 'SIGTERM'); // the launcher stops what it started
        for (let i = 0; i < 150 && launcher.exitCode === null; i++) await sleep(200);
        // Its children then stop themselves; PostgreSQL is stopped below.
        if (launcher.exitCode === null) killGroup(launcher.pid!, 'SIGKILL');
      }
      const postmaster = path.join(postgresDir, 'postgres', 'postmaster.pid');
      if (existsSync(postmaster)) {
        const pid = Number(readFileSync(postmaster, 'utf8').split('\n')[0]);
        if (pid && alive(pid)) process.kill(pid, 'SIGINT');
      }
      rmSync(postgresDir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
      await deleteTestKeys(prefix);
    }
    assert.equal(existsSync(postgresDir), false, "PostgreSQL's data folder is removed");
  });

  it('runs on the Redis Cluster of REDIS_CLUSTER_NODES, starting no Redis of its own, and streams demo events', async () => {
    const cluster = await startRedisCluster({ masters: 3 });
    const prefix = `t${randomBytes(5).toString('hex')}`;
    const database = await createTestDatabase();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sf-dev-'));
    const port = await freePortRun();
    const simUrl = `http://127.0.0.1:${await freePort()}`;
    let output = '';
    const launcher = spawn(process.execPath, [LAUNCHER], {
      cwd: repoRoot,
      env: {
        ...baseEnv(port, simUrl, prefix),
        REDIS_CLUSTER_NODES: cluster.seedNodes,
        DATABASE_URL: database.url,
        STREAMFEED_DATA_DIR: dataDir,
      },
    });
    try {
      launcher.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      launcher.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => launcher.once('exit', resolve));
      for (const deadline = Date.now() + 120_000; !/streamfeed: ready in /.test(output);) {
        if (Date.now() > deadline || launcher.exitCode !== null) {
          assert.fail(`not ready:\n${output}`);
        }
        await sleep(200);
      }
      assert.ok(
        output.includes(
          `Redis: using the Redis Cluster of REDIS_CLUSTER_NODES (${cluster.seedNodes})`,
        ),
        output,
      );
      const pids = /streamfeed: pids: (.*)/.exec(output)?.[1] ?? '';
      assert.doesNotMatch(pids, /redis-server|postgres/, 'nothing of its own but the stack');
      await receiveDemoEvent(simUrl, port, path.join(dataDir, 'dev-secrets.json'), () => output);
      // The stack's queues are the cluster's: hash-tagged keys on its masters.
      const keys = await Promise.all(
        (await cluster.masters()).map(async ({ port: masterPort }) => {
          const node = new Redis({ host: '127.0.0.1', port: masterPort });
          try {
            return await node.keys(`${prefix}:*`);
          } finally {
            node.disconnect();
          }
        }),
      );
      assert.ok(
        keys.flat().some((key) => key.includes('{eventSubSubscriptions}')),
        'the subscription queue lives on the cluster',
      );
      launcher.kill('SIGINT');
      assert.equal(await exited, 0, output.slice(-3000));
      assert.match(output, /streamfeed: stopped/);
    } finally {
      if (launcher.exitCode === null && launcher.signalCode === null) launcher.kill('SIGKILL');
      await cluster.stop();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('says in one line why embedded PostgreSQL cannot start, and exits 1', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sf-dev-'));
    chmodSync(dataDir, 0o755); // reachable, so the cluster goes in it, where initdb meets junk
    mkdirSync(path.join(dataDir, 'postgres'));
    writeFileSync(path.join(dataDir, 'postgres', 'notes.txt'), 'not a cluster\n');
    try {
      const launcher = spawn(process.execPath, [LAUNCHER], {
        cwd: repoRoot,
        env: {
          ...baseEnv(await freePort(), `http://127.0.0.1:${await freePort()}`, 'unused'),
          STREAMFEED_DATA_DIR: dataDir,
          DEV_POSTGRES_PORT: String(await freePort()),
        },
      });
      let output = '';
      launcher.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      launcher.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => launcher.once('exit', resolve));
      assert.equal(code, 1, output);
      const lines = output.trim().split('\n');
      assert.deepEqual(
        lines.filter((line) => !line.startsWith('streamfeed: ')),
        [],
        `only the launcher's own lines:\n${output}`,
      );
      const cannot = lines.filter((line) => line.startsWith('streamfeed: cannot start:'));
      assert.equal(cannot.length, 1, output);
      assert.match(
        cannot[0]!,
        /PostgreSQL: initdb failed in .*postgres \(.*not empty\)\. Remove it/,
      );
      assert.match(cannot[0]!, /DATABASE_URL/);
      assert.ok(existsSync(path.join(dataDir, 'postgres', 'notes.txt')), 'nothing is deleted');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/** Watches the simulator's three demo streamers on realtime-1 and waits (30 s) for one event. */
async function receiveDemoEvent(
  simUrl: string,
  port: number,
  secretsFile: string,
  output: () => string,
): Promise<void> {
  const { data: users } = (await (await fetch(`${simUrl}/sim/users`)).json()) as {
    data: Array<{ id: string; login: string }>;
  };
  const demoIds = users.filter((u) => u.login.startsWith('demo_')).map((u) => u.id);
  assert.equal(demoIds.length, 3);
  const { SESSION_SECRET } = JSON.parse(readFileSync(secretsFile, 'utf8')) as {
    SESSION_SECRET: string;
  };
  const socket = connectSocket(`http://127.0.0.1:${port + 1}`, {
    auth: { token: await createRealtimeTokens(SESSION_SECRET).issue('viewer') },
    transports: ['websocket'],
  });
  try {
    const event = new Promise<StreamEvent>((resolve) => socket.once('event', resolve));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    for (const broadcasterId of demoIds) {
      const ack = (await socket.timeout(10_000).emitWithAck('watch', { broadcasterId })) as {
        ok: boolean;
      };
      assert.equal(ack.ok, true);
    }
    let timer: NodeJS.Timeout | undefined;
    const received = await Promise.race([
      event,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no demo event in 30 s:\n${output()}`)), 30_000);
      }),
    ]).finally(() => clearTimeout(timer));
    assert.ok(demoIds.includes(received.broadcasterId));
  } finally {
    socket.disconnect();
  }
}

async function deleteTestKeys(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, {
    maxRetriesPerRequest: 1,
  });
  redis.on('error', () => undefined);
  try {
    await deleteKeys(redis, prefix);
  } catch {
    // Redis is gone (a Redis the launcher started has stopped with it): nothing to delete
  } finally {
    redis.disconnect();
  }
}
