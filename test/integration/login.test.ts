import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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
import { launchChromium } from '../helpers/browser.js';

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
  it('refuses a cross-site logout or favourite change with 403, and the session goes on', async () => {
    const browser = await logIn('viewer_six');
    sim.state.addUser('cross_site_fav');
    const logOut = (headers: Record<string, string>) =>
      browser.get(`${stack.webUrl}/auth/logout`, { method: 'POST', headers });
    const crossSite: Array<Record<string, string>> = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: stack.webUrl.replace('127.0.0.1', 'localhost') },
      // Browsers that leave Origin out still say where a request comes from.
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { referer: 'https://evil.example/page' },
    ];
    for (const headers of crossSite) {
      const refused = await logOut(headers);
      assert.equal(refused.status, 403, JSON.stringify(headers));
      const body = (await refused.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'cross_origin');
      assert.match(body.error.message, /Cross-site request refused: POST \/auth\/logout/);
      assert.ok(!refused.headers.getSetCookie().length, 'the cookie is left alone');
      assert.equal((await browser.get(`${stack.webUrl}/api/me`)).status, 200, 'still logged in');
    }
    const favorite = await browser.get(`${stack.webUrl}/api/me/favorite`, {
      method: 'PUT',
      body: JSON.stringify({ login: 'cross_site_fav' }),
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
    });
    assert.equal(favorite.status, 403);
    assert.equal(
      ((await favorite.json()) as { error: { code: string } }).error.code,
      'cross_origin',
    );
    const me = (await (await browser.get(`${stack.webUrl}/api/me`)).json()) as {
      favorite: unknown;
    };
    assert.equal(me.favorite, null, 'the favourite did not change');

    const out = await logOut({ origin: stack.webUrl, 'sec-fetch-site': 'same-origin' });
    assert.equal(out.status, 204, 'the page itself still logs out');
    assert.equal((await browser.get(`${stack.webUrl}/api/me`)).status, 401);
  });

  it("keeps a viewer logged in when another site's form posts to /auth/logout (Chromium)", async () => {
    const jar = await logIn('viewer_seven');
    const attacker = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        `<form method="POST" action="${stack.webUrl}/auth/logout"></form>` +
          '<script>document.forms[0].submit()</script>',
      );
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    // localhost and 127.0.0.1 are different sites to a browser.
    const attackerUrl = `http://localhost:${(attacker.address() as AddressInfo).port}/`;
    const chromium = await launchChromium();
    try {
      const context = await chromium.newContext();
      await context.addCookies([
        {
          name: 'sf.sid',
          value: jar.cookies.get('sf.sid')!,
          url: stack.webUrl,
          httpOnly: true,
          sameSite: 'Lax',
        },
      ]);
      const page = await context.newPage();
      const posted = page.waitForResponse((r) => r.url() === `${stack.webUrl}/auth/logout`);
      await page.goto(attackerUrl);
      const response = await posted;
      assert.equal(response.request().method(), 'POST');
      assert.equal(await response.request().headerValue('origin'), attackerUrl.slice(0, -1));
      assert.equal(response.status(), 403);
      const cookies = await context.cookies(stack.webUrl);
      assert.equal(cookies.find((c) => c.name === 'sf.sid')?.value, jar.cookies.get('sf.sid'));
      assert.equal((await jar.get(`${stack.webUrl}/api/me`)).status, 200, 'the session lives');

      // The page's own logout, from PUBLIC_URL's origin, still works in the same browser.
      await page.goto(`${stack.webUrl}/api/config`);
      const status = await page.evaluate(
        async () => (await fetch('/auth/logout', { method: 'POST' })).status,
      );
      assert.equal(status, 204);
      assert.ok(!(await context.cookies(stack.webUrl)).some((c) => c.name === 'sf.sid'));
      assert.equal((await jar.get(`${stack.webUrl}/api/me`)).status, 401);
    } finally {
      await chromium.close();
      attacker.close();
    }
  });
});
