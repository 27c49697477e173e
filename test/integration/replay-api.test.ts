import assert from 'node:assert/strict';
import type { StreamEvent } from '../../src/shared/events/event.js';
import type { Stack } from '../helpers/stack.js';
import { startStackWithSimulator, waitUntil, type RunningSimulator } from '../helpers/simulator.js';
import { Browser, logInAsStreamer, logInThroughSimulator } from '../helpers/cookie-browser.js';

describe('POST /api/streamers/:id/events/:eventId/replay', function () {
  this.timeout(90_000);
  let sim: RunningSimulator;
  let stack: Stack;
  let streamer: Browser;
  let streamerId: string;
  let stored: StreamEvent;
  const replayUrl = (eventId: string, broadcasterId = streamerId) =>
    `${stack.webUrl}/api/streamers/${broadcasterId}/events/${eventId}/replay`;
  const post = (who: Browser, url: string, headers: Record<string, string> = {}) =>
    who.get(url, { method: 'POST', headers: { origin: stack.webUrl, ...headers } });

  before(async () => {
    ({ sim, stack } = await startStackWithSimulator({
      env: { REPLAY_INTERVAL_SECONDS: '3', OPERATOR_LOGINS: 'replay_ops' },
    }));
    streamer = await logInAsStreamer(stack.webUrl, 'replayed_streamer');
    streamerId = ((await (await streamer.get(`${stack.webUrl}/api/me`)).json()) as { id: string })
      .id;
    await waitUntil(
      () =>
        [...sim.state.subscriptions.values()].some(
          (s) => s.type === 'stream.online' && s.status === 'enabled',
        ),
      20_000,
      'the stream.online subscription',
    );
    await fetch(`${sim.url}/sim/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'stream.online', broadcasterId: streamerId }),
    });
    await waitUntil(
      async () => {
        const response = await fetch(`${stack.webUrl}/api/streamers/${streamerId}/events`);
        const [first] = ((await response.json()) as { events: StreamEvent[] }).events;
        if (first) stored = first;
        return first !== undefined;
      },
      15_000,
      'the stored event',
    );
  });
  after(async () => {
    await stack?.stop();
    await sim?.close();
  });

  it('refuses without a session (401)', async () => {
    const response = await post(new Browser(), replayUrl(stored.id));
    assert.equal(response.status, 401);
    assert.equal(
      ((await response.json()) as { error: { code: string } }).error.code,
      'unauthorized',
    );
  });

  it('refuses a plain viewer, and a streamer not in streamer mode (403), and logs who asked', async () => {
    const viewer = await logInThroughSimulator(stack.webUrl, 'just_watching');
    const refused = await post(viewer, replayUrl(stored.id));
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'not_allowed');
    await stack.processes
      .get('web')!
      .waitForOutput(/Refused a replay of event .* to just_watching/);
    // Their own stream, but they did not connect their channel.
    const plain = await logInThroughSimulator(stack.webUrl, 'plain_streamer');
    const plainId = ((await (await plain.get(`${stack.webUrl}/api/me`)).json()) as { id: string })
      .id;
    assert.equal((await post(plain, replayUrl(stored.id, plainId))).status, 403);
    // Nor may the streamer replay someone else's events.
    assert.equal((await post(streamer, replayUrl(stored.id, plainId))).status, 403);
    const info = (await (
      await viewer.get(`${stack.webUrl}/api/streamers/${streamerId}`)
    ).json()) as {
      canReplay: boolean;
    };
    assert.equal(info.canReplay, false, 'the page shows a plain viewer no Replay button');
  });

  it('answers 404 for an event the streamer does not have, and 400 for what is no id', async () => {
    const missing = await post(streamer, replayUrl('ev_nothing_like_it'));
    assert.equal(missing.status, 404);
    assert.equal((await post(streamer, replayUrl('not%20an%20id'))).status, 400);
  });

  it('refuses a cross-site request (403 cross_origin) and replays nothing', async () => {
    const response = await post(streamer, replayUrl(stored.id), { origin: 'https://evil.example' });
    assert.equal(response.status, 403);
    assert.equal(
      ((await response.json()) as { error: { code: string } }).error.code,
      'cross_origin',
    );
  });

  it('plays the event to watchers as event:replayed, once an interval (429 with Retry-After)', async () => {
    const info = (await (
      await streamer.get(`${stack.webUrl}/api/streamers/${streamerId}`)
    ).json()) as {
      canReplay: boolean;
    };
    assert.equal(info.canReplay, true);
    const watcher = await stack.watcher(0);
    const replays: unknown[] = [];
    watcher.socket.on('event:replayed', (replay: unknown) => replays.push(replay));
    assert.equal((await watcher.watch(streamerId)).ok, true);

    const accepted = await post(streamer, replayUrl(stored.id));
    assert.equal(accepted.status, 202);
    const { replayId } = (await accepted.json()) as { replayId: string };
    await waitUntil(() => replays.length === 1, 10_000, 'the replay on the socket');
    assert.deepEqual(replays[0], {
      replayId,
      replayedAt: (replays[0] as { replayedAt: string }).replayedAt,
      event: stored,
    });
    assert.equal(watcher.received.length, 0, 'no new event');
    await stack.processes
      .get('web')!
      .waitForOutput(new RegExp(`Replay ${replayId} .* asked by replayed_streamer .*streamer\\)`));

    const tooSoon = await post(streamer, replayUrl(stored.id));
    assert.equal(tooSoon.status, 429);
    assert.equal(
      ((await tooSoon.json()) as { error: { code: string } }).error.code,
      'replay_too_soon',
    );
    const retryAfter = Number(tooSoon.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 3, `Retry-After ${retryAfter}`);
    // An operator shares the streamer's interval: it is the streamer's audience that is spared.
    const operator = await logInThroughSimulator(stack.webUrl, 'replay_ops');
    assert.equal((await post(operator, replayUrl(stored.id))).status, 429);
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 200));
    assert.equal((await post(operator, replayUrl(stored.id))).status, 202);
    await waitUntil(() => replays.length === 2, 10_000, 'the operator’s replay');
    await stack.processes.get('web')!.waitForOutput(/asked by replay_ops .*operator\)/);
    const rows = await stack.knex('events').where({ broadcaster_id: streamerId }).count('* as n');
    assert.equal(Number(rows[0]!.n), 1, 'nothing stored twice');
  });
});
