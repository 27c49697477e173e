import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { createTestDatabase } from '../helpers/database.js';
import { freePort, startProcess, type ProcessType } from '../helpers/processes.js';
import { EVENTSUB_SECRET, SESSION_SECRET, TEST_REDIS_URL } from '../helpers/stack.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const linesOf = (output: string) => output.split('\n').filter((line) => line.trim() !== '');
const notJson = (output: string) =>
  linesOf(output).filter((line) => {
    try {
      JSON.parse(line);
      return false;
    } catch {
      return true;
    }
  });

/** What every process of a test stack gets, on a prefix of its own. */
const common = () => ({
  NODE_ENV: 'test',
  REDIS_URL: TEST_REDIS_URL,
  REDIS_PREFIX: `t${randomBytes(5).toString('hex')}`,
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/sf_test_never_reached',
  TWITCH_EVENTSUB_SECRET: EVENTSUB_SECRET,
  SESSION_SECRET,
});

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}

describe('process start-up: configuration, ports and an unreachable Redis', function () {
  this.timeout(60_000);

  it('refuses a port that is blank or not in decimal digits, naming PORT', async () => {
    for (const PORT of [' ', '0x0FA3']) {
      const web = startProcess('web', 'web', { ...common(), PORT });
      assert.equal(await web.exited, 1, web.output());
      assert.match(
        web.output(),
        /^ {2}PORT: must be a whole number from 1 to 65535, in decimal digits$/m,
      );
      assert.doesNotMatch(web.output(), /listening/);
    }
  });

  it('runs release without TWITCH_EVENTSUB_SECRET or SESSION_SECRET, which migrations never use', async () => {
    const database = await createTestDatabase();
    try {
      const release = startProcess('release', 'release', { DATABASE_URL: database.url });
      assert.equal(await release.exited, 0, release.output());
      assert.match(release.output(), /release done/);
    } finally {
      await database.drop();
    }
  });

  it('starts emitter without either secret, and processor without SESSION_SECRET', async () => {
    const env = { ...common(), TWITCH_EVENTSUB_SECRET: '', SESSION_SECRET: '' };
    const emitter = startProcess('emitter', 'emitter', env);
    await emitter.waitForOutput(/emitter started/);
    assert.equal(await emitter.stop(), 0);
    const processor = startProcess('processor', 'processor', env);
    assert.equal(await processor.exited, 1);
    assert.match(processor.output(), /TWITCH_EVENTSUB_SECRET: is required/);
    assert.doesNotMatch(processor.output(), /SESSION_SECRET/);
  });

  it('refuses web and realtime without SESSION_SECRET, whatever NODE_ENV says', async () => {
    for (const type of ['web', 'realtime'] as const) {
      for (const NODE_ENV of ['', 'development', 'test']) {
        const running = startProcess(type, type, {
          ...common(),
          NODE_ENV,
          SESSION_SECRET: '',
          PORT: String(await freePort()),
        });
        assert.equal(await running.exited, 1, `${type} NODE_ENV=${NODE_ENV}:\n${running.output()}`);
        assert.match(running.output(), /^ {2}SESSION_SECRET: is required \(at least 32/m);
        assert.doesNotMatch(running.output(), /listening/);
      }
    }
  });

  describe('a port already in use', () => {
    const cases: Array<{ type: ProcessType; variable: 'PORT' | 'HEALTH_PORT' }> = [
      { type: 'web', variable: 'PORT' },
      { type: 'realtime', variable: 'PORT' },
      { type: 'processor', variable: 'HEALTH_PORT' },
      { type: 'emitter', variable: 'HEALTH_PORT' },
    ];
    for (const { type, variable } of cases) {
      it(`${type}: one line naming ${variable} and the port, then exit 1`, async () => {
        const port = await freePort();
        const taken = await occupy(port);
        try {
          const running = startProcess(type, type, { ...common(), [variable]: String(port) });
          assert.equal(await running.exited, 1, running.output());
          const output = running.output();
          assert.deepEqual(notJson(output), [], 'every line is a JSON log line');
          const fatal = linesOf(output)
            .map((line) => JSON.parse(line) as { level: number; msg: string })
            .filter((line) => line.level >= 50);
          assert.deepEqual(
            fatal.map((line) => line.msg),
            [`cannot listen on port ${port} (${variable}): it is already in use`],
          );
          assert.doesNotMatch(output, /\n\s+at /, 'no stack trace');
        } finally {
          taken.close();
        }
      });
    }
  });

  it('logs nothing but JSON lines while Redis cannot be reached, requests included', async () => {
    const unreachable = `redis://127.0.0.1:${await freePort()}`;
    const env = { ...common(), REDIS_URL: unreachable, SHUTDOWN_TIMEOUT_MS: '3000' };
    const webPort = await freePort();
    const running = [
      startProcess('web', 'web', { ...env, PORT: String(webPort) }),
      startProcess('realtime', 'realtime', { ...env, PORT: String(await freePort()) }),
      startProcess('processor', 'processor', { ...env, HEALTH_PORT: String(await freePort()) }),
      startProcess('emitter', 'emitter', { ...env, HEALTH_PORT: String(await freePort()) }),
    ];
    await running[0]!.waitForOutput(/web listening/);
    for (const path of ['/api/streamers/1234/events', '/readyz', '/api/me', '/auth/twitch']) {
      const response = await fetch(`http://127.0.0.1:${webPort}${path}`);
      await response.arrayBuffer();
      assert.ok(response.status >= 400, `${path} answers ${response.status} without Redis`);
    }
    await sleep(4000);
    for (const child of running) {
      const code = await child.stop();
      const output = child.output();
      assert.match(output, /ECONNREFUSED/, `${child.name} did try to reach Redis`);
      assert.deepEqual(notJson(output), [], `${child.name} wrote only JSON lines`);
      // Said once per connection and cause, not once per reconnect attempt (about 20 in 4 s).
      const refusals = output.split('\n').filter((line) => line.includes('ECONNREFUSED'));
      assert.ok(refusals.length <= 8, `${child.name} said it ${refusals.length} times`);
      // web and realtime drain and exit 0 at once while Redis is away. (The processor still
      // waits for Redis to set up its schedule, and a BullMQ worker's close waits for Redis:
      // SIGTERM ends those by the signal or by the shutdown timeout.)
      if (child.name === 'web' || child.name === 'realtime') {
        assert.equal(code, 0, `${child.name} exit code`);
      }
    }
  });
});
