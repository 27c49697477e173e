import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { createTestDatabase, dropEventPartitions, type TestDatabase } from '../helpers/database.js';
import { repoRoot } from '../helpers/processes.js';
import { createEventStore } from '../../src/shared/db/event-store.js';
import { ensurePartition, listEventPartitions } from '../../src/shared/db/partitions.js';
import { maintainEventPartitions } from '../../src/shared/db/partition-maintenance.js';
import { restoreArchive } from '../../src/shared/db/partition-restore.js';
import { ArchiveError, readManifest } from '../../src/shared/db/archive-file.js';
import { runArchive } from '../../src/ops/archive.js';
import type { StreamEvent } from '../../src/shared/events/event.js';

const NOW = new Date('2031-06-15T12:00:00Z'); // 6 months kept: 2030-12 on
const OLD = 'events_y2030m10';

const eventIn = (i: number): StreamEvent => ({
  id: `arch-${String(i).padStart(5, '0')}`,
  type: i % 3 === 0 ? 'stream.online' : 'channel.follow',
  broadcasterId: String(100 + (i % 4)),
  broadcasterLogin: `streamer_${i % 4}`,
  broadcasterName: `Streamer_${i % 4}`,
  occurredAt: new Date(Date.UTC(2030, 9, 1) + i * 60_123).toISOString(),
  actor: i % 3 === 0 ? null : { id: String(i), login: `fan_${i}`, name: `Fän ${i} 🎉` },
  summary: i % 3 === 0 ? 'Streamer went live' : `Fän ${i} 🎉 followed`,
  data: { n: i, nested: { text: 'a "quoted"\nline' } },
  // Some follows were fetched from Helix after downtime: the mark must survive an archive.
  ...(i % 7 === 1 ? { backfilled: true as const } : {}),
});

/** Every column of every row of the old month, exactly (times to the microsecond). */
async function fullRows(db: TestDatabase) {
  const { rows } = await db.knex.raw<{ rows: Array<{ row: unknown }> }>(
    `SELECT to_jsonb(e) AS row FROM events e
      WHERE occurred_at >= '2030-10-01T00:00:00Z' AND occurred_at < '2030-11-01T00:00:00Z'
      ORDER BY id`,
  );
  return rows.map((r) => r.row);
}

async function tableExists(db: TestDatabase, name: string): Promise<boolean> {
  const { rows } = await db.knex.raw<{ rows: Array<{ oid: unknown }> }>(
    'SELECT to_regclass(?) AS oid',
    [name],
  );
  return rows[0]!.oid !== null;
}

describe('archive before drop, and restore (real PostgreSQL)', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let dir: string;
  const total = 420;

  beforeEach(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'sf-archive-'));
    // Only the old month, whatever month the migration ran in.
    await dropEventPartitions(db.knex);
    await ensurePartition(db.knex, new Date('2030-10-15T00:00:00Z'));
    const store = createEventStore(db.knex);
    const rows = Array.from({ length: total }, (_, i) => ({
      event: eventIn(i),
      messageId: i % 5 === 0 ? null : `msg-${i}`,
      ...(i % 2 === 0 ? { seq: 1000 + i } : {}),
    }));
    for (let i = 0; i < rows.length; i += 100) await store.insert(rows.slice(i, i + 100));
  });
  afterEach(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('archives, verifies and drops; restores the very same rows, readable again, twice harmlessly', async () => {
    const before = await fullRows(db);
    assert.equal(before.length, total);
    const store = createEventStore(db.knex);
    const apiShape = await store.listBefore('101', 100);

    const result = await maintainEventPartitions(db.knex, {
      now: NOW,
      retentionMonths: 6,
      archive: { dir, pageSize: 64 },
    });
    assert.deepEqual(result.archived, [OLD]);
    assert.deepEqual(result.dropped, []);
    assert.deepEqual(result.failed, []);
    assert.ok(!(await tableExists(db, OLD)), 'dropped');
    assert.deepEqual(await fullRows(db), []);

    const manifest = (await readManifest(dir, OLD))!;
    assert.equal(manifest.rows, total);
    assert.equal(manifest.interval, 'month');
    assert.equal(manifest.from, '2030-10-01T00:00:00.000Z');
    assert.equal(manifest.to, '2030-11-01T00:00:00.000Z');
    assert.match(manifest.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual((await readdir(dir)).sort(), [`${OLD}.manifest.json`, `${OLD}.ndjson.gz`]);
    // Each line is the API's Event (plus what the row kept besides).
    const lines = gunzipSync(await readFile(path.join(dir, `${OLD}.ndjson.gz`)))
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as StreamEvent & { stored: unknown });
    assert.equal(lines.length, total);
    const byId = new Map(lines.map(({ stored: _, ...event }) => [event.id, event]));
    for (const { event } of apiShape) assert.deepEqual(byId.get(event.id), event);

    const out: string[] = [];
    await runArchive(db.knex, dir, { command: 'restore', partition: OLD }, (l) => out.push(l));
    assert.match(out.at(-1)!, new RegExp(`${total} events new, 0 there already`));
    assert.deepEqual(await fullRows(db), before);
    assert.deepEqual(await store.listBefore('101', 100), apiShape);

    const again = await restoreArchive(db.knex, dir, OLD);
    assert.deepEqual([again.inserted, again.placement], [0, 'existing']);
    assert.deepEqual(await fullRows(db), before);

    // Retention leaves a restored partition to the operator.
    const next = await maintainEventPartitions(db.knex, {
      now: NOW,
      retentionMonths: 6,
      archive: { dir },
    });
    assert.deepEqual([next.archived, next.dropped, next.failed], [[], [], []]);
    assert.ok((await listEventPartitions(db.knex)).includes(OLD));
    const listed: string[] = [];
    await runArchive(db.knex, dir, { command: 'list', verify: true }, (l) => listed.push(l));
    assert.equal(listed.length, 1);
    assert.match(
      listed[0]!,
      new RegExp(`^${OLD}  month  2030-10-01.* ${total} events .*verified now  restored$`),
    );
  });

  it('refuses a corrupt or missing archive, changing nothing', async () => {
    await maintainEventPartitions(db.knex, { now: NOW, retentionMonths: 6, archive: { dir } });
    const file = path.join(dir, `${OLD}.ndjson.gz`);
    const bytes = await readFile(file);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = bytes[middle]! ^ 0xff;
    await writeFile(file, bytes);
    await assert.rejects(restoreArchive(db.knex, dir, OLD), (error: Error) => {
      assert.ok(error instanceof ArchiveError);
      assert.match(error.message, /has checksum [0-9a-f]{64}, its manifest says/);
      return true;
    });
    await assert.rejects(
      restoreArchive(db.knex, dir, 'events_y2020m01'),
      /no archive of events_y2020m01/,
    );
    assert.ok(!(await tableExists(db, OLD)));
    assert.deepEqual(await fullRows(db), []);
  });

  it('leaves a partition it cannot archive in place, says why, and finishes it next run', async () => {
    const before = await fullRows(db);
    const notADir = path.join(dir, 'a-file');
    await writeFile(notADir, 'not a folder');
    const failed = await maintainEventPartitions(db.knex, {
      now: NOW,
      retentionMonths: 6,
      archive: { dir: notADir },
    });
    assert.deepEqual(failed.archived, []);
    assert.deepEqual(
      failed.failed.map((f) => f.name),
      [OLD],
    );
    assert.match(failed.failed[0]!.error.message, /EEXIST|ENOTDIR/);
    assert.ok(await tableExists(db, OLD), 'still there (detached)');
    assert.equal(Number((await db.knex(OLD).count({ n: '*' }))[0]!.n), total);

    const next = await maintainEventPartitions(db.knex, {
      now: NOW,
      retentionMonths: 6,
      archive: { dir },
    });
    assert.deepEqual(next.archived, [OLD]);
    assert.ok(!(await tableExists(db, OLD)));
    await restoreArchive(db.knex, dir, OLD);
    assert.deepEqual(await fullRows(db), before);
  });

  it('loses nothing when SIGKILLed while writing the archive; the next run completes it', async () => {
    const before = await fullRows(db);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/archive-child.ts', db.url, dir, NOW.toISOString(), '150'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    // 420 rows at 50 a page and 150 ms between pages: about 1.2 s of writing.
    const deadline = Date.now() + 20_000;
    let tmp: string | undefined;
    while (!tmp && Date.now() < deadline) {
      tmp = (await readdir(dir)).find((name) => name.includes('.tmp-'));
      if (!tmp) await sleep(20);
    }
    assert.ok(tmp, `the write never began: ${output}`);
    await sleep(300);
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL', output);

    // Killed mid-write: no manifest, no archive under its name; the table holds every row.
    assert.equal(await readManifest(dir, OLD), null);
    assert.ok(!existsSync(path.join(dir, `${OLD}.ndjson.gz`)));
    assert.ok(await tableExists(db, OLD), 'the detached partition is still there');
    assert.equal(Number((await db.knex(OLD).count({ n: '*' }))[0]!.n), total);

    const next = await maintainEventPartitions(db.knex, {
      now: NOW,
      retentionMonths: 6,
      archive: { dir },
    });
    assert.deepEqual([next.archived, next.failed], [[OLD], []]);
    assert.deepEqual((await readdir(dir)).sort(), [`${OLD}.manifest.json`, `${OLD}.ndjson.gz`]);
    await restoreArchive(db.knex, dir, OLD);
    assert.deepEqual(await fullRows(db), before);
  });

  it('drops the detached table when a run stopped after the manifest, before the drop', async () => {
    await maintainEventPartitions(db.knex, { now: NOW, retentionMonths: 6, archive: { dir } });
    const manifest = (await readManifest(dir, OLD))!;
    // As if the drop had never run: the detached table is back, the archive complete.
    await restoreArchive(db.knex, dir, OLD);
    await db.knex.raw(`ALTER TABLE events DETACH PARTITION ${OLD}`);
    await db.knex.raw(
      `COMMENT ON TABLE ${OLD} IS 'streamfeed:detached ${JSON.stringify({ name: OLD, from: manifest.from, to: manifest.to, interval: 'month' })}'`,
    );
    const { mtimeMs } = await stat(path.join(dir, `${OLD}.ndjson.gz`));
    const next = await maintainEventPartitions(db.knex, {
      now: NOW,
      retentionMonths: 6,
      archive: { dir },
    });
    assert.deepEqual(next.archived, [OLD]);
    assert.ok(!(await tableExists(db, OLD)));
    assert.equal(
      (await stat(path.join(dir, `${OLD}.ndjson.gz`))).mtimeMs,
      mtimeMs,
      'not rewritten',
    );
  });

  it('detaches CONCURRENTLY where no default partition forbids it', async () => {
    const before = await fullRows(db);
    await db.knex.raw('DROP TABLE events_default');
    const result = await maintainEventPartitions(db.knex, {
      now: NOW,
      retentionMonths: 6,
      archive: { dir },
    });
    assert.deepEqual([result.archived, result.failed], [[OLD], []]);
    await restoreArchive(db.knex, dir, OLD);
    assert.deepEqual(await fullRows(db), before);
  });

  it('npm run archive lists and restores, with progress; says what is wrong in one line', async () => {
    await maintainEventPartitions(db.knex, { now: NOW, retentionMonths: 6, archive: { dir } });
    const env = { ...process.env, DATABASE_URL: db.url, EVENT_ARCHIVE_DIR: dir, NODE_ENV: 'test' };
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['dist/ops/archive.main.js', ...args], {
        cwd: repoRoot,
        env,
        encoding: 'utf8',
      });
    const list = run('list');
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${OLD}  month  .* ${total} events .* archived\\n$`));
    const restore = run('restore', OLD);
    assert.equal(restore.status, 0, restore.stderr);
    assert.match(restore.stdout, new RegExp(`${OLD}: ${total} of ${total} events \\(100%\\)`));
    assert.match(restore.stdout, /restored, 420 events new/);
    const missing = run('restore', 'events_y2001m01');
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^archive: no archive of events_y2001m01 in .*\n$/);
    assert.equal(run('frobnicate').status, 2);
  });
});
