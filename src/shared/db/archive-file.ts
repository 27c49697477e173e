import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { StreamEvent } from '../events/event.js';
import type { PartitionInterval } from './partition-interval.js';

/**
 * One line of an archive: the contract's Event, plus what the row kept beyond it, so that a
 * restore gives back the very row (`occurredAt` there is the partition key, which differs from
 * the Event's only for times no partition can hold; times are exact to the microsecond).
 */
export interface ArchivedEvent extends StreamEvent {
  stored: {
    occurredAt: string;
    eventTime: string | null;
    receivedAt: string;
    messageId: string | null;
    seq: number | null;
  };
}

/** `<partition>.manifest.json`: written only once its archive was read back and checked. */
export interface ArchiveManifest {
  format: 'streamfeed-events-ndjson-gzip/1';
  partition: string;
  interval: PartitionInterval | null;
  from: string;
  to: string;
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
  createdAt: string;
  verifiedAt: string;
}

/** Why an archive cannot be trusted (or used); nothing was changed when this is thrown. */
export class ArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveError';
  }
}

export const archiveFileOf = (partition: string) => `${partition}.ndjson.gz`;
const manifestFileOf = (partition: string) => `${partition}.manifest.json`;
const MANIFEST_SUFFIX = '.manifest.json';

/** A fresh temporary name next to `file`: renamed over it once complete, never read as one. */
const temporary = (file: string) => `${file}.tmp-${process.pid}-${Date.now()}`;

/** fsync of a file, or of a folder so that a rename in it survives a power cut. */
async function sync(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes what earlier, interrupted writes of `partition`'s files left behind. */
async function removeTemporaries(dir: string, partition: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.startsWith(`${partition}.`) && name.includes('.tmp-')) {
      await rm(path.join(dir, name), { force: true });
    }
  }
}

/**
 * Writes `lines` to `<dir>/<partition>.ndjson.gz` through gzip, under a temporary name renamed
 * into place once the file is complete and synced. Returns its row count, size and sha256.
 */
export async function writeArchiveFile(
  dir: string,
  partition: string,
  lines: AsyncIterable<ArchivedEvent>,
): Promise<{ rows: number; bytes: number; sha256: string }> {
  await mkdir(dir, { recursive: true });
  await removeTemporaries(dir, partition);
  const final = path.join(dir, archiveFileOf(partition));
  const tmp = temporary(final);
  const hash = createHash('sha256');
  let rows = 0;
  let bytes = 0;
  async function* ndjson() {
    for await (const line of lines) {
      rows += 1;
      yield `${JSON.stringify(line)}\n`;
    }
  }
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(ndjson(), createGzip(), tap, createWriteStream(tmp, { flags: 'wx' }));
    await sync(tmp);
    await rename(tmp, final);
    await sync(dir);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  return { rows, bytes, sha256: hash.digest('hex') };
}

/** Every line of an archive file, parsed; throws ArchiveError for one that is not an event. */
export async function* readArchiveFile(file: string): AsyncGenerator<ArchivedEvent> {
  const input = createReadStream(file).pipe(createGunzip());
  const reader = createInterface({ input, crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const text of reader) {
      number += 1;
      let line: ArchivedEvent;
      try {
        line = JSON.parse(text) as ArchivedEvent;
      } catch {
        throw new ArchiveError(`${path.basename(file)} line ${number} is not JSON`);
      }
      if (typeof line?.id !== 'string' || typeof line.stored?.occurredAt !== 'string') {
        throw new ArchiveError(`${path.basename(file)} line ${number} is not an archived event`);
      }
      yield line;
    }
  } catch (error) {
    if (error instanceof ArchiveError) throw error;
    throw new ArchiveError(`${path.basename(file)} cannot be read: ${(error as Error).message}`);
  } finally {
    input.destroy();
  }
}

async function sha256Of(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * Reads an archive back: its checksum, and every line decompressed and parsed, against what is
 * expected of it. Throws ArchiveError saying what does not match.
 */
export async function verifyArchiveFile(
  dir: string,
  expected: { partition: string; rows: number; sha256: string },
): Promise<void> {
  const file = path.join(dir, archiveFileOf(expected.partition));
  const { sha256 } = await sha256Of(file).catch((error: Error) => {
    throw new ArchiveError(`${archiveFileOf(expected.partition)} cannot be read: ${error.message}`);
  });
  if (sha256 !== expected.sha256) {
    throw new ArchiveError(
      `${archiveFileOf(expected.partition)} has checksum ${sha256}, its manifest says ${expected.sha256}`,
    );
  }
  let rows = 0;
  for await (const _ of readArchiveFile(file)) rows += 1;
  if (rows !== expected.rows) {
    throw new ArchiveError(
      `${archiveFileOf(expected.partition)} holds ${rows} events, ${expected.rows} expected`,
    );
  }
}

/** Writes the manifest, under a temporary name renamed into place: it is there whole or not. */
export async function writeManifest(dir: string, manifest: ArchiveManifest): Promise<void> {
  const final = path.join(dir, manifestFileOf(manifest.partition));
  const tmp = temporary(final);
  const handle = await open(tmp, 'wx');
  try {
    await handle.writeFile(`${JSON.stringify(manifest, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, final);
  await sync(dir);
}

/** The manifest of `partition`'s archive, or null when there is none (not yet archived). */
export async function readManifest(
  dir: string,
  partition: string,
): Promise<ArchiveManifest | null> {
  let text: string;
  try {
    text = await readFile(path.join(dir, manifestFileOf(partition)), 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return null;
    throw error;
  }
  try {
    return JSON.parse(text) as ArchiveManifest;
  } catch {
    throw new ArchiveError(`${manifestFileOf(partition)} is not JSON`);
  }
}

/** The names of the partitions archived in `dir`, sorted; none when `dir` does not exist. */
export async function listArchivedPartitions(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch((error: { code?: string }) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return names
    .filter((name) => name.endsWith(MANIFEST_SUFFIX))
    .map((name) => name.slice(0, -MANIFEST_SUFFIX.length))
    .sort();
}
