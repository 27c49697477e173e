/**
 * The contender to the event store's multi-row insert: `COPY ... FROM STDIN` (pg-copy-streams)
 * into a temporary staging table, then `INSERT ... SELECT ... ON CONFLICT DO NOTHING` from it,
 * since COPY itself cannot skip the rows already stored. One transaction; the staging table
 * empties at its commit. Keeps insertByValues' contract (see EventRowWriter).
 */
import { from as copyFrom } from 'pg-copy-streams';
import { finished } from 'node:stream/promises';
import {
  EVENT_COLUMNS,
  type EventInsertRow,
  type EventRowWriter,
} from '../src/shared/db/event-store.js';
import { onConnection } from '../test/helpers/pg-connection.js';

// The store's own columns: what an Event is read from, and the feed position and message id.
const COLUMNS = [...EVENT_COLUMNS, 'message_id', 'seq'] as Array<keyof EventInsertRow>;
const LIST = COLUMNS.join(', ');

// The columns of `events` it writes, types and collations included (id is COLLATE "C").
const STAGING = `CREATE TEMP TABLE IF NOT EXISTS events_staging ON COMMIT DELETE ROWS AS
  SELECT ${LIST} FROM events WITH NO DATA`;
const COPY = `COPY events_staging (${LIST}) FROM STDIN`;
const MOVE = `INSERT INTO events (${LIST}) SELECT ${LIST} FROM events_staging ON CONFLICT DO NOTHING`;

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A value in COPY's text format: `\N` for null, the four special characters escaped. */
function copyText(value: string | number | boolean | null): string {
  if (value === null) return '\\N';
  return String(value).replace(/[\\\n\r\t]/g, (c) => ESCAPES[c]!);
}

/** COPY's text format for `rows`, one line each. */
export function copyLines(rows: EventInsertRow[]): string {
  let text = '';
  for (const row of rows) text += `${COLUMNS.map((c) => copyText(row[c])).join('\t')}\n`;
  return text;
}

// A connection's temporary table lives as long as its session; made once per connection.
const staged = new WeakSet<object>();

export const insertByCopy: EventRowWriter = (knex, rows) =>
  onConnection(knex, async (connection) => {
    if (!staged.has(connection)) {
      await connection.query(STAGING);
      staged.add(connection);
    }
    await connection.query('BEGIN');
    try {
      const copy = connection.query(copyFrom(COPY));
      copy.end(copyLines(rows));
      await finished(copy);
      const moved = await connection.query(MOVE);
      await connection.query('COMMIT');
      return moved.rowCount ?? 0;
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
