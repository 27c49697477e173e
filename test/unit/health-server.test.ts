import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { readinessProbe, startHealthServer, type ReadinessCheck } from '../../src/shared/health.js';
import { createMetricsRegistry, serveMetrics } from '../../src/shared/metrics.js';

const SECRET_REASON = 'password authentication failed for user "postgres" at db.internal:5432';

/** A check whose outcome the test switches. */
function switchable(name: string) {
  let failure: string | undefined;
  const check: ReadinessCheck = {
    name,
    check: () => (failure ? Promise.reject(new Error(failure)) : Promise.resolve('PONG')),
  };
  return { check, fail: (reason: string | undefined) => (failure = reason) };
}

/** A pino logger whose lines the test reads. */
function capturedLog() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

describe('readiness', () => {
  it('says which dependency is down, never why, and logs the reason once per change', async () => {
    const redis = switchable('redis');
    const postgres = switchable('postgres');
    const { log, lines } = capturedLog();
    const probe = readinessProbe([redis.check, postgres.check], log);

    assert.deepEqual(await probe(), { ok: true, checks: { redis: 'ok', postgres: 'ok' } });
    postgres.fail(SECRET_REASON);
    for (let i = 0; i < 5; i++) {
      const result = await probe();
      assert.deepEqual(result, { ok: false, checks: { redis: 'ok', postgres: 'down' } });
      assert.ok(!JSON.stringify(result).includes('password'));
    }
    postgres.fail(undefined);
    assert.equal((await probe()).ok, true);
    await probe();
    await new Promise((resolve) => setImmediate(resolve));

    const readinessLines = lines.filter((l) => String(l.msg).startsWith('Readiness:'));
    assert.deepEqual(
      readinessLines.map((l) => l.msg),
      [`Readiness: postgres is down: ${SECRET_REASON}`, 'Readiness: postgres is back'],
    );
    assert.equal(readinessLines[0]!.reason, SECRET_REASON);
    assert.equal(readinessLines[0]!.dependency, 'postgres');
  });
});

describe("the workers' health server", () => {
  it('answers every path at once, and /readyz without internal error text, logging it once', async () => {
    const postgres = switchable('postgres');
    postgres.fail(SECRET_REASON);
    const metrics = serveMetrics(createMetricsRegistry('test'), 'a-token-of-sixteen-chars');
    const { log, lines } = capturedLog();
    const server = await startHealthServer(0, readinessProbe([postgres.check], log), metrics);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const get = (path: string) => fetch(`${url}${path}`, { signal: AbortSignal.timeout(2000) });
      const ready = await get('/readyz');
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { ok: false, checks: { postgres: 'down' } });
      const expected: Record<string, number> = {
        '/healthz': 200,
        '/metrics': 401,
        '/metrics/': 401,
        '/METRICS': 401,
        '/Metrics': 401,
        '/healthz/': 404,
        '/readyz?x=1': 404,
        '/nothing': 404,
        '/%00': 404,
      };
      for (const [path, status] of Object.entries(expected)) {
        assert.equal((await get(path)).status, status, path);
      }
      assert.equal((await get('/readyz')).status, 503);
      assert.deepEqual(
        lines.filter((l) => String(l.msg).startsWith('Readiness:')).map((l) => l.reason),
        [SECRET_REASON],
      );
    } finally {
      server.close();
    }
  });
});
