import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import express from 'express';
import { pino } from 'pino';
import { errorHandler } from '../../src/api/errors.js';

describe('error handler', () => {
  it('answers 500 to a PostgreSQL error and logs its words and code, not the statement', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const app = express();
    app.get('/boom', () => {
      // What knex throws: pg's error with the statement and its values put in front.
      const error = Object.assign(
        new Error(
          `select "id" from "events" where "id" = 'secret-value' - invalid byte sequence for encoding "UTF8": 0x00`,
        ),
        { code: '22021', severity: 'ERROR', routine: 'report_invalid_encoding' },
      );
      throw error;
    });
    app.use(errorHandler(pino(sink)));
    const server = app.listen(0);
    try {
      const { port } = server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/boom`);
      assert.equal(response.status, 500);
      assert.deepEqual(await response.json(), {
        error: { code: 'internal', message: 'Internal server error' },
      });
    } finally {
      server.close();
    }
    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0]!) as { err: Record<string, unknown> };
    assert.equal(entry.err.message, 'invalid byte sequence for encoding "UTF8": 0x00');
    assert.deepEqual([entry.err.code, entry.err.severity], ['22021', 'ERROR']);
    assert.doesNotMatch(lines[0]!, /select|secret-value/);
  });
});
