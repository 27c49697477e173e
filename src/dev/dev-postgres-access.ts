import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { PostgresBinaries } from './dev-postgres-binaries.js';

const run = promisify(execFile);
const ACCOUNT = 'postgres';
/**
 * Where root keeps what the `postgres` account must reach when the clone is private (a clone in
 * /root, a 0700 folder): root-owned, so no other account can swap the binaries it starts.
 */
export const SHARED_DIR = '/var/lib/streamfeed-dev';

/** Who PostgreSQL runs as: this user, or under root (which PostgreSQL refuses) `postgres`. */
export interface PostgresAccount {
  name: string;
  /** spawn options: the account's ids, and a working folder it can enter. */
  ids: { uid?: number; gid?: number; cwd: string };
}

const idOf = async (flag: '-u' | '-g') => Number((await run('id', [flag, ACCOUNT])).stdout);

export async function postgresAccount(): Promise<PostgresAccount> {
  if (process.getuid?.() !== 0) return { name: 'this user', ids: { cwd: '/' } };
  const found = await idOf('-u').then(
    () => true,
    () => false,
  );
  if (!found) {
    try {
      await run('useradd', ['--system', '--user-group', '--no-create-home', ACCOUNT]);
    } catch (error) {
      throw new Error(
        `started as root, PostgreSQL must run as a user "${ACCOUNT}", and none exists ` +
          `(useradd: ${firstLine(error)}). Create one (useradd --system ${ACCOUNT}), or start as ` +
          'another user',
        { cause: error },
      );
    }
  }
  const [uid, gid] = await Promise.all([idOf('-u'), idOf('-g')]);
  return { name: `user ${ACCOUNT}`, ids: { uid, gid, cwd: '/' } };
}

/** A failed command's error line (else its first), for a one-line message. */
export function firstLine(error: unknown): string {
  const { stderr, message } = error as { stderr?: string; message?: string };
  const lines = (stderr?.trim() || message || String(error)).trim().split('\n');
  const line = lines.find((l) => /\berror: /.test(l)) ?? lines[0]!;
  return line.replace(/^\S*(initdb|pg_ctl): (error: )?/, '');
}

/** Whether the account can enter `dir` (search permission on it and every folder above). */
export async function canEnter(account: PostgresAccount, dir: string): Promise<boolean> {
  if (account.ids.uid === undefined) return true;
  return run('test', ['-x', dir], account.ids).then(
    () => true,
    () => false,
  );
}

/**
 * The binaries, or under root a copy of them in SHARED_DIR when the account cannot run them
 * where npm put them (spawn would fail with EACCES). Copied once per version.
 */
export async function reachableBinaries(
  account: PostgresAccount,
  binaries: PostgresBinaries,
  say: (line: string) => void,
): Promise<PostgresBinaries> {
  if (account.ids.uid === undefined) return binaries;
  const runs = await run(binaries.initdb, ['--version'], account.ids).then(
    () => true,
    () => false,
  );
  if (runs) return binaries;
  const target = path.join(SHARED_DIR, `postgres-${binaries.version}-${binaries.platform}`);
  const moved = (file: string) => path.join(target, path.relative(binaries.root, file));
  if (!existsSync(target)) {
    say(`PostgreSQL: copying its binaries to ${target}, where ${account.name} can run them`);
    const partial = `${target}.partial-${process.pid}`;
    try {
      mkdirSync(SHARED_DIR, { recursive: true, mode: 0o755 });
      cpSync(binaries.root, partial, { recursive: true, verbatimSymlinks: true });
      renameSync(partial, target);
    } catch (error) {
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(target)) {
        throw new Error(
          `${account.name} cannot run ${binaries.initdb}, and copying it to ${target} failed ` +
            `(${firstLine(error)}). Start from a folder that ${account.name} can reach`,
          { cause: error },
        );
      }
    }
  }
  say(`PostgreSQL: binaries in ${target} (${account.name} cannot reach ${binaries.root})`);
  return {
    ...binaries,
    root: target,
    pgCtl: moved(binaries.pgCtl),
    initdb: moved(binaries.initdb),
    postgres: moved(binaries.postgres),
  };
}

/**
 * The cluster's folder: `<dataDir>/postgres`, or under root, when the account cannot enter
 * dataDir, a folder of SHARED_DIR named after it. Created and owned by the account.
 */
export function databaseDirFor(
  account: PostgresAccount,
  dataDir: string,
  reachable: boolean,
): string {
  let parent = dataDir;
  if (!reachable) {
    const name = `${path.basename(path.dirname(dataDir))}-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`;
    parent = path.join(SHARED_DIR, `data-${name}`);
    mkdirSync(parent, { recursive: true, mode: 0o755 });
  }
  const databaseDir = path.join(parent, 'postgres');
  mkdirSync(databaseDir, { recursive: true, mode: 0o700 });
  if (account.ids.uid !== undefined) chownSync(databaseDir, account.ids.uid, account.ids.gid!);
  return databaseDir;
}
