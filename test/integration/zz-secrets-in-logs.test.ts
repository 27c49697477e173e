import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startedProcesses } from '../helpers/processes.js';
import {
  SIM_CLIENT,
  issuedTwitchTokens,
  startStackWithSimulator,
  type RunningSimulator,
} from '../helpers/simulator.js';
import { EVENTSUB_SECRET, SESSION_SECRET, type Stack } from '../helpers/stack.js';
import { logInThroughSimulator } from '../helpers/cookie-browser.js';
import { deliver } from '../helpers/twitch.js';

// Named to run last, so that it reads the logs of every process the whole run started.
describe('secrets never appear in logs or error bodies', function () {
  this.timeout(60_000);
  let sim: RunningSimulator;
  let stack: Stack;
  const bodies: string[] = [];

  before(async () => {
    // Its own run of the paths that handle secrets, so the check means something run alone too.
    ({ sim, stack } = await startStackWithSimulator({ env: { LOG_LEVEL: 'debug' } }));
    const browser = await logInThroughSimulator(stack.webUrl, 'secret_keeper');
    sim.state.addUser('secret_streamer');
    for (const response of [
      await browser.get(`${stack.webUrl}/api/realtime/token`),
      await browser.get(`${stack.webUrl}/api/me/favorite`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: 'secret_streamer' }),
      }),
      await browser.get(`${stack.webUrl}/auth/twitch/callback?code=stolen&state=forged`),
    ]) {
      bodies.push(await response.text());
    }
    const wrongSecret = await deliver(stack.webhookUrl, 'not-the-eventsub-secret', {
      body: JSON.stringify({ subscription: { id: randomUUID(), type: 'stream.online' } }),
      subscriptionType: 'stream.online',
      subscriptionVersion: '1',
    });
    bodies.push(wrongSecret.body);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the subscription worker's logs
  });
  after(async () => {
    await stack?.stop();
    await sim?.close();
  });

  it('finds no client secret, EventSub secret, session secret or Twitch token in any log', () => {
    const secrets = new Map<string, string>([
      ['client secret', SIM_CLIENT.clientSecret],
      ['EventSub secret', EVENTSUB_SECRET],
      ['session secret', SESSION_SECRET],
      ...[...issuedTwitchTokens].map(
        (token) => [`Twitch token ${token.slice(0, 4)}…`, token] as [string, string],
      ),
    ]);
    assert.ok(issuedTwitchTokens.size >= 2, 'the run issued Twitch tokens to look for');
    assert.ok(startedProcesses.length >= 5, 'the run started processes whose logs to read');
    const found: string[] = [];
    for (const running of startedProcesses) {
      const output = running.output();
      for (const [what, secret] of secrets) {
        if (output.includes(secret)) found.push(`${what} in the log of ${running.name}`);
      }
    }
    for (const [index, body] of bodies.entries()) {
      for (const [what, secret] of secrets) {
        if (body.includes(secret)) found.push(`${what} in error body ${index}`);
      }
    }
    assert.deepEqual(found, []);
  });
});
