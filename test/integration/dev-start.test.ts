import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { io as connectSocket } from 'socket.io-client';
import type { StreamEvent } from '../../src/shared/events/event.js';
import { createRealtimeTokens } from '../../src/shared/realtime-token.js';
import { freePort, repoRoot } from '../helpers/processes.js';
import { deleteKeys, TEST_REDIS_URL } from '../helpers/redis.js';

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

describe('npm start: the whole stack from one command', function () {
  this.timeout(180_000);

  before(function () {
    if (existsSync(LAUNCHER)) return;
    this.timeout(300_000);
    execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  });

  it('starts on embedded PostgreSQL, streams demo events to a socket, and stops cleanly on SIGINT', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sf-dev-'));
    const prefix = `t${randomBytes(5).toString('hex')}`;
    const port = await freePort();
    const simUrl = `http://127.0.0.1:${await freePort()}`;
    let output = '';
    let launcher: ChildProcessWithoutNullStreams | undefined;
    try {
      launcher = spawn(process.execPath, [LAUNCHER], {
        cwd: repoRoot,
        env: {
          PATH: process.env.PATH ?? '',
          STREAMFEED_DATA_DIR: dataDir,
          REDIS_PREFIX: prefix,
          ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {}),
          PORT: String(port),
          SIM_PORT: new URL(simUrl).port,
          DEV_POSTGRES_PORT: String(await freePort()),
          LOG_LEVEL: 'warn',
        },
      });
      launcher.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      launcher.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => launcher!.once('exit', resolve));

      for (const deadline = Date.now() + 120_000; !/streamfeed: ready in /.test(output);) {
        if (Date.now() > deadline || launcher.exitCode !== null) {
          assert.fail(`not ready:\n${output}`);
        }
        await sleep(200);
      }
      assert.match(output, /PostgreSQL: embedded, data in .* \(first start: initialising…\)/);
      assert.match(output, /migrations: done/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
      const pids = [...(/streamfeed: pids: (.*)/.exec(output)?.[1] ?? '').matchAll(/(\S+) (\d+)/g)];
      assert.deepEqual(
        pids.map((m) => m[1]).filter((name) => name !== 'redis-server'), // when none answered
        ['postgres', 'simulator', 'web', 'realtime-1', 'realtime-2', 'processor', 'emitter'],
        output,
      );

      const { data: users } = (await (await fetch(`${simUrl}/sim/users`)).json()) as {
        data: Array<{ id: string; login: string }>;
      };
      const demoIds = users.filter((u) => u.login.startsWith('demo_')).map((u) => u.id);
      assert.equal(demoIds.length, 3);
      const { SESSION_SECRET } = JSON.parse(
        readFileSync(path.join(dataDir, 'dev-secrets.json'), 'utf8'),
      ) as { SESSION_SECRET: string };
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
            timer = setTimeout(
              () => reject(new Error(`no demo event in 30 s:\n${output}`)),
              30_000,
            );
          }),
        ]).finally(() => clearTimeout(timer));
        assert.ok(demoIds.includes(received.broadcasterId));
      } finally {
        socket.disconnect();
      }

      launcher.kill('SIGINT');
      assert.equal(await exited, 0, output.slice(-3000));
      assert.match(output, /streamfeed: stopped/);
      const left = pids.map((m) => Number(m[2])).filter(alive);
      assert.deepEqual(left, [], 'no process of the stack left behind');
      assert.deepEqual(processesNaming(dataDir), [], 'nothing still uses the data folder');
    } finally {
      if (launcher && launcher.exitCode === null && launcher.signalCode === null) {
        launcher.kill('SIGTERM'); // the launcher stops what it started
        for (let i = 0; i < 150 && launcher.exitCode === null; i++) await sleep(200);
        // Its children then stop themselves; PostgreSQL is stopped below.
        if (launcher.exitCode === null) launcher.kill('SIGKILL');
      }
      const postmaster = path.join(dataDir, 'postgres', 'postmaster.pid');
      if (existsSync(postmaster)) {
        const pid = Number(readFileSync(postmaster, 'utf8').split('\n')[0]);
        if (pid && alive(pid)) process.kill(pid, 'SIGINT');
      }
      rmSync(dataDir, { recursive: true, force: true });
      await deleteTestKeys(prefix);
    }
    assert.equal(existsSync(dataDir), false, 'the temp data folder is removed');
  });
});

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
