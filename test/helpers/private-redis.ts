import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './processes.js';

/**
 * A redis-server of the test's own, with append-only persistence (or none, with `appendOnly:
 * false`, as the test clusters run), that the test may stop; `args` are added to its command.
 */
export async function startPrivateRedis(
  options: { appendfsync?: 'always' | 'everysec'; appendOnly?: boolean; args?: string[] } = {},
) {
  const dir = mkdtempSync(path.join(tmpdir(), 'sf-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;

  async function start() {
    if (child && child.exitCode === null && child.signalCode === null) return;
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        options.appendOnly === false ? 'no' : 'yes',
        '--appendfsync',
        options.appendfsync ?? 'always',
        '--save',
        '',
        ...(options.args ?? []),
      ],
      { stdio: 'ignore' },
    );
    child.once('error', () => undefined);
    const probe = new Redis({
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined); // refused until the server is up; the loop retries
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    throw new Error(
      `redis-server did not start on port ${port} (is it installed? apt-get install redis-server)`,
    );
  }
  async function stop(signal: NodeJS.Signals = 'SIGKILL') {
    // A server killed by a signal has no exit code but a signal code: it is gone all the same,
    // and waiting for its exit again would wait forever.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
