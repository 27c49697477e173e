import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { io as connectSocket } from 'socket.io-client';
import { EVENTSUB_SECRET, type Stack } from '../helpers/stack.js';
import {
  SIM_CLIENT,
  startStackWithSimulator,
  waitUntil,
  type RunningSimulator,
} from '../helpers/simulator.js';
import { deliver } from '../helpers/twitch.js';
import { Browser } from '../helpers/cookie-browser.js';

describe('Twitch login, favourite and realtime token', function () {
  this.timeout(60_000);
  let sim: RunningSimulator;
  let stack: Stack;

  before(async () => {
    ({ sim, stack } = await startStackWithSimulator());
  });
  after(async () => {
    await stack?.stop();
    await sim?.close();
  });

  async function logIn(login: string): Promise<Browser> {
    const browser = new Browser();
    const start = await browser.get(`${stack.webUrl}/auth/twitch`);
    assert.equal(start.status, 302);
    const authorize = new URL(start.headers.get('location')!);
    assert.equal(`${authorize.origin}${authorize.pathname}`, `${sim.url}/oauth2/authorize`);
    assert.equal(authorize.searchParams.get('response_type'), 'code');
    assert.equal(authorize.searchParams.get('scope') ?? '', '', 'no scope by default');
    assert.ok(authorize.searchParams.get('state'));
    const before = browser.cookies.get('sf.sid');
    authorize.searchParams.set('sim_login', login);
    const approved = await fetch(authorize, { redirect: 'manual' });
    await approved.arrayBuffer();
    const callback = await browser.get(approved.headers.get('location')!);
    assert.equal(callback.status, 302);
    assert.equal(callback.headers.get('location'), '/');
    assert.notEqual(browser.cookies.get('sf.sid'), before, 'the session id changes at login');
    return browser;
  }

  it('logs a viewer in with no scope, in an HttpOnly SameSite=Lax session', async () => {
    const browser = await logIn('viewer_one');
    const me = await browser.get(`${stack.webUrl}/api/me`);
    assert.equal(me.status, 200);
    assert.equal(me.headers.get('cache-control'), 'no-store', 'no cache keeps a viewer');
    const anonymous = await fetch(`${stack.webUrl}/api/me`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('cache-control'), 'no-store');
    const body = (await me.json()) as { login: string; favorite: unknown; id: string };
    assert.equal(body.login, 'viewer_one');
    assert.equal(body.favorite, null);
    const cookie = browser.setCookies.find((c) => c.startsWith('sf.sid='))!;
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
  });

  it('returns to the start page with a message for a bad state or a denial', async () => {
    const browser = new Browser();
    await browser.get(`${stack.webUrl}/auth/twitch`);
    const forged = await browser.get(`${stack.webUrl}/auth/twitch/callback?code=abc&state=forged`);
    assert.equal(forged.headers.get('location'), '/?login_error=state');
    const denied = await browser.get(
      `${stack.webUrl}/auth/twitch/callback?error=access_denied&state=x`,
    );
    assert.equal(denied.headers.get('location'), '/?login_error=denied');
    assert.equal((await browser.get(`${stack.webUrl}/api/me`)).status, 401);
  });

  it('sets a favourite by login, refusing malformed and unknown ones, and subscribes to it', async () => {
    const browser = await logIn('viewer_two');
    const streamer = sim.state.addUser('fav_streamer', { displayName: 'Fav_Streamer' });
    const put = (login: unknown) =>
      browser.get(`${stack.webUrl}/api/me/favorite`, {
        method: 'PUT',
        body: JSON.stringify({ login }),
        headers: { 'content-type': 'application/json' },
      });
    assert.equal((await put('bad login!')).status, 400);
    assert.equal((await put(42)).status, 400);
    const unknown = await put('nobody_here');
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'not_found');
    const ok = await put('Fav_Streamer');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('cache-control'), 'no-store');
    assert.deepEqual(((await ok.json()) as { favorite: unknown }).favorite, {
      id: streamer.id,
      login: 'fav_streamer',
      displayName: 'Fav_Streamer',
      profileImageUrl: streamer.profileImageUrl,
    });
    const me = (await (await browser.get(`${stack.webUrl}/api/me`)).json()) as {
      favorite: { id: string };
    };
    assert.equal(me.favorite.id, streamer.id);
    // The processor's subscription worker makes the shared set, verified by web's intake.
    await waitUntil(
      () =>
        [...sim.state.subscriptions.values()].filter(
          (s) => s.status === 'enabled' && JSON.stringify(s.condition).includes(streamer.id),
        ).length === 5,
      20_000,
      'five enabled subscriptions',
    );
  });

  it('issues a realtime token bound to the viewer that the socket fleet accepts', async () => {
    const browser = await logIn('viewer_three');
    const response = await browser.get(`${stack.webUrl}/api/realtime/token`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const { url, token } = (await response.json()) as { url: string; token: string };
    assert.equal(url, stack.env.PUBLIC_URL);
    const socket = connectSocket(stack.realtimeUrls[0], {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    socket.disconnect();
    assert.equal((await new Browser().get(`${stack.webUrl}/api/realtime/token`)).status, 401);
  });

  it('lets a streamer connect their channel, unlocking and subscribing to more event types', async () => {
    const browser = new Browser();
    const start = await browser.get(`${stack.webUrl}/auth/twitch/streamer`);
    const authorize = new URL(start.headers.get('location')!);
    const asked = (authorize.searchParams.get('scope') ?? '').split(' ');
    for (const scope of ['moderator:read:followers', 'channel:read:subscriptions', 'bits:read']) {
      assert.ok(asked.includes(scope), scope);
    }
    authorize.searchParams.set('sim_login', 'connected_streamer');
    const approved = await fetch(authorize, { redirect: 'manual' });
    await approved.arrayBuffer();
    assert.equal(
      (await browser.get(approved.headers.get('location')!)).headers.get('location'),
      '/',
    );
    const me = (await (await browser.get(`${stack.webUrl}/api/me`)).json()) as { id: string };
    const info = (await (await fetch(`${stack.webUrl}/api/streamers/${me.id}`)).json()) as {
      streamerMode: boolean;
      eventTypes: string[];
    };
    assert.equal(info.streamerMode, true);
    for (const type of [
      'channel.follow',
      'channel.subscribe',
      'channel.cheer',
      'channel.poll.begin',
    ]) {
      assert.ok(info.eventTypes.includes(type), type);
    }
    await waitUntil(
      () =>
        [...sim.state.subscriptions.values()].some(
          (s) =>
            s.type === 'channel.follow' &&
            s.condition.broadcaster_user_id === me.id &&
            s.status === 'enabled',
        ),
      20_000,
      'the follow subscription',
    );
    assert.equal((await fetch(`${stack.webUrl}/api/streamers/999999999`)).status, 404);
  });

  it('logs out', async () => {
    const browser = await logIn('viewer_four');
    const out = await browser.get(`${stack.webUrl}/auth/logout`, { method: 'POST' });
    assert.equal(out.status, 204);
    assert.equal((await browser.get(`${stack.webUrl}/api/me`)).status, 401);
  });

  it('ends the sessions of a viewer who revokes streamfeed on Twitch', async () => {
    const browser = await logIn('viewer_five');
    const user = sim.state.userByLogin('viewer_five')!;
    const body = JSON.stringify({
      subscription: {
        id: randomUUID(),
        type: 'user.authorization.revoke',
        version: '1',
        status: 'enabled',
        cost: 1,
        condition: { client_id: SIM_CLIENT.clientId },
        transport: { method: 'webhook', callback: stack.webhookUrl },
        created_at: new Date().toISOString(),
      },
      event: {
        client_id: SIM_CLIENT.clientId,
        user_id: user.id,
        user_login: 'viewer_five',
        user_name: 'viewer_five',
      },
    });
    assert.equal(
      (
        await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
          body,
          subscriptionType: 'user.authorization.revoke',
          subscriptionVersion: '1',
        })
      ).status,
      202,
    );
    let status = 200;
    for (let i = 0; i < 100 && status === 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await browser.get(`${stack.webUrl}/api/me`)).status;
    }
    assert.equal(status, 401);
  });
});
