import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';

const URL = 'redis://127.0.0.1:6379';
export const HOW_TO_GET_REDIS =
  'Redis: nothing answers on 127.0.0.1:6379 and there is no redis-server to start. Install it ' +
  '(apt-get install redis-server, brew install redis), or run one with Docker ' +
  '(docker run -d -p 6379:6379 redis:7), or set REDIS_URL.';

export interface DevRedis {
  url: string;
  /** The redis-server started here, if any. */
  pid: number | undefined;
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** A Redis that answers on 6379, or a redis-server started here with append-only data in `dataDir`. */
export async function ensureDevRedis(
  dataDir: string,
  say: (line: string) => void,
): Promise<DevRedis> {
  if (await answers(URL)) {
    say('Redis: using 127.0.0.1:6379');
    return { url: URL, pid: undefined, stop: () => Promise.resolve() };
  }
  const dir = path.join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  // Its own session: a terminal's Ctrl-C reaches only the launcher, which stops Redis last.
  const child = spawn(
    'redis-server',
    ['--port', '6379', '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes'],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2000)));
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const missing = await new Promise<boolean>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ENOENT'));
    child.once('spawn', () => resolve(false));
  });
  if (missing) throw new Error(HOW_TO_GET_REDIS);
  for (let i = 0; !(await answers(URL)); i++) {
    if (child.exitCode !== null || i > 50) {
      child.kill('SIGKILL');
      const last = output.trim().split('\n').pop() ?? '';
      throw new Error(`Redis: redis-server did not start: ${last}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  say(`Redis: started redis-server on 127.0.0.1:6379, data in ${dir}`);
  return {
    url: URL,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.kill('SIGTERM'); // redis-server flushes the append-only file and exits
      await exited;
      clearTimeout(timer);
    },
  };
}
