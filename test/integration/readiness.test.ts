import assert from 'node:assert/strict';
import { startStack, type Stack } from '../helpers/stack.js';

describe('web /readyz with PostgreSQL unreachable', function () {
  this.timeout(60_000);
  let stack: Stack;

  before(async () => {
    // A wrong password and a closed port on an internal address: both must stay out of /readyz.
    stack = await startStack({
      without: ['processor', 'emitter', 'realtime'],
      databaseUrl: () => 'postgres://postgres:not-the-password@127.0.0.1:1/streamfeed',
    });
  });
  after(async () => {
    await stack?.stop();
  });

  it('names the dependency that is down, and logs why once rather than on every probe', async () => {
    for (let probe = 0; probe < 5; probe++) {
      const response = await fetch(`${stack.webUrl}/readyz`);
      assert.equal(response.status, 503);
      const text = await response.text();
      assert.deepEqual(JSON.parse(text), { ok: false, checks: { redis: 'ok', postgres: 'down' } });
      assert.doesNotMatch(text, /ECONNREFUSED|127\.0\.0\.1|password/);
    }
    const lines = stack.processes
      .get('web')!
      .output()
      .split('\n')
      .filter((line) => line.includes('Readiness: postgres is down'));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /connect ECONNREFUSED 127\.0\.0\.1:1/);
  });
});
