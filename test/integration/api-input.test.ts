import assert from 'node:assert/strict';
import { startStackWithSimulator, type RunningSimulator } from '../helpers/simulator.js';
import type { Stack } from '../helpers/stack.js';

describe('API input: malformed ids and URLs get 400, never a 500 or SQL in the log', function () {
  this.timeout(60_000);
  let sim: RunningSimulator;
  let stack: Stack;

  before(async () => {
    // With Twitch credentials, so that the viewer's routes (`/api/streamers/:id`) are there.
    ({ sim, stack } = await startStackWithSimulator({
      without: ['processor', 'emitter', 'realtime'],
    }));
  });
  after(async () => {
    await stack?.stop();
    await sim?.close();
  });

  it('answers 400 with {error: {code, message}} to every path and query id that is not an id', async () => {
    const paths = [
      '/api/streamers/%E0%A4%A/events',
      '/api/streamers/%E0%A4%A',
      '/api/streamers/%00',
      '/api/streamers/1337%00/events',
      '/api/streamers/1337/events?after=%00',
      '/api/streamers/1337/events?before=%00',
      '/api/streamers/1337/events?before=%E0%A4%A',
      '/api/streamers/1337/events?after=ev_%27%3B--',
    ];
    for (const path of paths) {
      const response = await fetch(`${stack.webUrl}${path}`);
      assert.equal(response.status, 400, `${path}: ${await response.clone().text()}`);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'bad_request', path);
      assert.ok(body.error.message.length > 0, path);
    }
    // Well-formed ids that name nothing are still a 404 and an empty page.
    assert.equal((await fetch(`${stack.webUrl}/api/streamers/424242`)).status, 404);
    const page = await fetch(`${stack.webUrl}/api/streamers/1337/events?before=ev_nothing`);
    assert.deepEqual(await page.json(), { events: [] });

    const output = stack.processes.get('web')!.output();
    const lines = output.split('\n').filter((l) => l.startsWith('{'));
    const errors = lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50);
    assert.deepEqual(errors, [], 'no ERROR line');
    assert.doesNotMatch(output, /select |from "/i, 'no SQL in the log');
  });
});
