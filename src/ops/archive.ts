import type { Knex } from 'knex';
import {
  listArchivedPartitions,
  readManifest,
  verifyArchiveFile,
} from '../shared/db/archive-file.js';
import { RESTORED_MARK, listPartitionRanges } from '../shared/db/partitions.js';
import { restoreArchive } from '../shared/db/partition-restore.js';
import { UsageError } from './cli.js';

export { UsageError };

export const USAGE = [
  'usage: npm run archive -- list [--verify]     archives in EVENT_ARCHIVE_DIR',
  '       npm run archive -- restore <partition>  bring one back into events',
].join('\n');

export type ArchiveCommand =
  { command: 'list'; verify: boolean } | { command: 'restore'; partition: string };

export function parseArchiveArgs(args: string[]): ArchiveCommand {
  const [command, ...rest] = args;
  if (command === 'list' && rest.every((arg) => arg === '--verify')) {
    return { command, verify: rest.length > 0 };
  }
  if (command === 'restore' && rest.length === 1 && /^[a-z0-9_]+$/.test(rest[0]!)) {
    return { command, partition: rest[0]! };
  }
  throw new UsageError(`cannot do "${args.join(' ')}"\n${USAGE}`);
}

/** One line per archive: bounds, rows, when verified, and whether it is in the table now. */
async function list(knex: Knex, dir: string, verify: boolean): Promise<string[]> {
  const names = await listArchivedPartitions(dir);
  if (names.length === 0) return [`no archives in ${dir}`];
  const attached = new Map((await listPartitionRanges(knex)).map((r) => [r.name, r]));
  const lines: string[] = [];
  for (const name of names) {
    const manifest = (await readManifest(dir, name))!;
    const range = attached.get(name);
    const state = !range
      ? 'archived'
      : (range.comment ?? '').startsWith(RESTORED_MARK)
        ? 'restored'
        : 'in table';
    let check = `verified ${manifest.verifiedAt}`;
    if (verify) {
      check = await verifyArchiveFile(dir, manifest).then(
        () => 'verified now',
        (error: Error) => `CORRUPT: ${error.message}`,
      );
    }
    lines.push(
      `${name}  ${manifest.interval ?? '?'}  ${manifest.from} .. ${manifest.to}  ${manifest.rows} events  ${manifest.bytes} bytes  ${check}  ${state}`,
    );
  }
  return lines;
}

/** Runs one command; its lines go to `out` as they come (a long restore shows progress). */
export async function runArchive(
  knex: Knex,
  dir: string,
  command: ArchiveCommand,
  out: (line: string) => void,
): Promise<void> {
  if (command.command === 'list') {
    for (const line of await list(knex, dir, command.verify)) out(line);
    return;
  }
  const { partition } = command;
  out(`${partition}: verifying the archive`);
  let reported = Date.now();
  const result = await restoreArchive(knex, dir, partition, (done, total) => {
    if (Date.now() - reported < 2000 && done < total) return;
    reported = Date.now();
    out(`${partition}: ${done} of ${total} events (${Math.floor((done / total) * 100)}%)`);
  });
  const where = {
    created: `partition ${partition} made again, marked restored: retention leaves it until you drop it`,
    existing: `partition ${partition} was there already`,
    shared: 'other partitions cover its range now; the events went to them',
  }[result.placement];
  out(
    `${partition}: restored, ${result.inserted} events new, ${result.manifest.rows - result.inserted} there already; ${where}`,
  );
}
