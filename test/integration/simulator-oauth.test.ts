import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { createHelixUsersRouter } from '../../src/simulator/helix-users.routes.js';
import { createOAuthRouter } from '../../src/simulator/oauth.routes.js';
import {
  APP_TOKEN_SECONDS,
  createSimState,
  USER_TOKEN_SECONDS,
  type SimState,
} from '../../src/simulator/sim-state.js';

const REDIRECT = 'http://127.0.0.1:9/auth/twitch/callback';
const CLIENT = { clientId: 'cid', clientSecret: 'csecret', redirectUris: [REDIRECT] };

type Json = Record<string, unknown>;
interface UserTokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  scope: string[];
  token_type: string;
}
interface HelixUsers {
  data: Json[];
}

describe('simulator: OAuth and Helix users as Twitch documents them', () => {
  // One server for the suite, answering with a fresh app per test: no port is reused in a run.
  let server: Server;
  let url: string;
  let app: Express;
  let state: SimState;
  let clock: number;

  function mount(rateLimit?: number) {
    state = createSimState({ clients: [{ ...CLIENT }], now: () => clock });
    app = express();
    app.use('/oauth2', createOAuthRouter(state));
    app.use('/helix', createHelixUsersRouter(state, rateLimit));
  }

  before(async () => {
    server = createServer((req, res) => {
      app(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    clock = Date.parse('2026-01-01T00:00:00Z');
    mount();
  });

  const authorizeParams = (extra: Record<string, string> = {}) => ({
    client_id: CLIENT.clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'user:read:email chat:read',
    state: 'st4te',
    ...extra,
  });
  const authorizeUrl = (extra: Record<string, string> = {}) =>
    `${url}/oauth2/authorize?${new URLSearchParams(authorizeParams(extra)).toString()}`;
  const getAuthorize = (extra: Record<string, string> = {}) =>
    fetch(authorizeUrl(extra), { redirect: 'manual' });
  /** What the consent page's form posts: the query as hidden fields plus the user's choice. */
  const postAuthorize = (fields: Record<string, string>, extra: Record<string, string> = {}) =>
    fetch(authorizeUrl(extra), {
      method: 'POST',
      body: new URLSearchParams({ ...authorizeParams(extra), ...fields }),
      redirect: 'manual',
    });
  const post = (path: string, fields: Record<string, string>) =>
    fetch(`${url}/oauth2${path}`, { method: 'POST', body: new URLSearchParams(fields) });
  const token = (fields: Record<string, string>) =>
    post('/token', { client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, ...fields });
  const validate = (accessToken: string, scheme = 'OAuth') =>
    fetch(`${url}/oauth2/validate`, { headers: { authorization: `${scheme} ${accessToken}` } });
  const helix = (path: string, accessToken: string, clientId = CLIENT.clientId) =>
    fetch(`${url}/helix${path}`, {
      headers: { authorization: `Bearer ${accessToken}`, 'client-id': clientId },
    });

  function location(response: Response): URL {
    assert.equal(response.status, 302);
    return new URL(response.headers.get('location')!);
  }
  async function codeFor(login: string, scope = 'user:read:email chat:read'): Promise<string> {
    const redirect = location(await getAuthorize({ sim_login: login, scope }));
    assert.equal(redirect.searchParams.get('state'), 'st4te');
    return redirect.searchParams.get('code')!;
  }
  async function userTokens(login: string, scope?: string): Promise<UserTokens> {
    const response = await token({
      grant_type: 'authorization_code',
      code: await codeFor(login, scope),
      redirect_uri: REDIRECT,
    });
    assert.equal(response.status, 200);
    return (await response.json()) as UserTokens;
  }
  async function appToken(): Promise<string> {
    const response = await token({ grant_type: 'client_credentials' });
    return ((await response.json()) as { access_token: string }).access_token;
  }

  describe('authorize', () => {
    it('shows a consent page listing the users and the scopes, with no script', async () => {
      state.addUser('existing_user');
      const response = await getAuthorize({ state: '"><script>alert(1)</script>' });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type')!, /text\/html/);
      const page = await response.text();
      assert.match(page, /value="existing_user"/);
      assert.match(page, /user:read:email/);
      assert.match(page, /chat:read/);
      assert.match(page, /placeholder="new_login"/);
      assert.doesNotMatch(page, /<script/i, 'the echoed state is escaped');
      assert.match(page, /&quot;&gt;&lt;script&gt;/);
    });

    it('escapes an invalid login in the error it shows', async () => {
      const response = await postAuthorize({ decision: 'approve', new_login: '<script>' });
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('location'), null);
      const page = await response.text();
      assert.match(page, /&quot;&lt;script&gt;&quot; is not a valid login/);
      assert.doesNotMatch(page, /<script/i);
      assert.match(page, /user:read:email/, 'the page is shown again with the scopes');
      assert.equal(state.userByLogin('<script>'), undefined);
    });

    it('runs the whole code flow from the consent form, for a new and an existing user', async () => {
      const approved = location(
        await postAuthorize({ decision: 'approve', new_login: 'New_Viewer' }),
      );
      assert.equal(`${approved.origin}${approved.pathname}`, REDIRECT);
      assert.equal(approved.searchParams.get('scope'), 'user:read:email chat:read');
      assert.equal(approved.searchParams.get('state'), 'st4te');
      assert.match(approved.search, /scope=user%3Aread%3Aemail\+chat%3Aread/);
      const user = state.userByLogin('new_viewer')!;
      assert.equal(user.displayName, 'New_Viewer');
      assert.deepEqual([...state.grantedScopes(user.id, 'cid')], ['user:read:email', 'chat:read']);

      const exchanged = await token({
        grant_type: 'authorization_code',
        code: approved.searchParams.get('code')!,
        redirect_uri: REDIRECT,
      });
      assert.equal(exchanged.status, 200);
      const body = (await exchanged.json()) as UserTokens;
      assert.deepEqual(Object.keys(body).sort(), [
        'access_token',
        'expires_in',
        'refresh_token',
        'scope',
        'token_type',
      ]);
      assert.equal(body.token_type, 'bearer');
      assert.deepEqual(body.scope, ['user:read:email', 'chat:read']);
      assert.equal(body.expires_in, USER_TOKEN_SECONDS);
      const validated = (await (await validate(body.access_token)).json()) as Json;
      assert.equal(validated.user_id, user.id);

      const again = location(await postAuthorize({ decision: 'approve', login: 'new_viewer' }));
      assert.ok(again.searchParams.get('code'));
      assert.equal(state.users.size, 1, 'an existing user is picked, not created again');
    });

    it('approves at once with the sim_login shortcut, creating the user if missing', async () => {
      const tokens = await userTokens('shortcut_user', '');
      assert.deepEqual(tokens.scope, []);
      const validated = (await (await validate(tokens.access_token)).json()) as Json;
      assert.equal(validated.login, 'shortcut_user');
      assert.equal((await getAuthorize({ sim_login: 'x' })).status, 400, 'logins are 4-25 chars');
    });

    it('redirects a denial with access_denied and the state, and no code', async () => {
      const denied = location(await postAuthorize({ decision: 'deny', new_login: 'whoever' }));
      assert.equal(`${denied.origin}${denied.pathname}`, REDIRECT);
      assert.equal(denied.searchParams.get('error'), 'access_denied');
      assert.equal(denied.searchParams.get('error_description'), 'The user denied you access');
      assert.match(denied.search, /error_description=The\+user\+denied\+you\+access/);
      assert.equal(denied.searchParams.get('state'), 'st4te');
      assert.equal(denied.searchParams.get('code'), null);
      assert.equal(state.codes.size, 0);
    });

    it('never redirects to an unregistered redirect_uri, and checks client and response_type', async () => {
      const cases: Array<[Record<string, string>, string]> = [
        [{ redirect_uri: 'https://evil.example/cb' }, 'redirect mismatch'],
        [{ redirect_uri: `${REDIRECT}/more` }, 'redirect mismatch'],
        [{ redirect_uri: `${REDIRECT}?next=x` }, 'redirect mismatch'],
        [{ redirect_uri: '' }, 'redirect mismatch'],
        [{ client_id: 'nope' }, 'invalid client'],
        [{ response_type: 'token' }, 'unsupported response_type'],
      ];
      for (const [extra, message] of cases) {
        for (const response of [
          await getAuthorize(extra),
          await getAuthorize({ ...extra, sim_login: 'sneaky_user' }),
          await postAuthorize({ decision: 'approve', new_login: 'sneaky_user' }, extra),
          await postAuthorize({ decision: 'deny' }, extra),
        ]) {
          assert.equal(response.status, 400, JSON.stringify(extra));
          assert.equal(response.headers.get('location'), null);
          assert.deepEqual(await response.json(), { status: 400, message });
        }
      }
      assert.equal(state.codes.size, 0);
      assert.equal(state.userByLogin('sneaky_user'), undefined);
    });
  });

  describe('token', () => {
    it('takes the fields from the query string too', async () => {
      const query = new URLSearchParams({
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
        grant_type: 'authorization_code',
        code: await codeFor('query_user'),
        redirect_uri: REDIRECT,
      });
      const response = await fetch(`${url}/oauth2/token?${query.toString()}`, { method: 'POST' });
      assert.equal(response.status, 200);
      assert.ok(((await response.json()) as UserTokens).refresh_token);
    });

    it('redeems a code once, for its own client and redirect_uri, within 10 minutes', async () => {
      const invalidCode = { status: 400, message: 'Invalid authorization code' };
      const redeem = (code: string, fields: Record<string, string> = {}) =>
        token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, ...fields });

      const once = await codeFor('code_user');
      assert.equal((await redeem(once)).status, 200);
      const twice = await redeem(once);
      assert.equal(twice.status, 400);
      assert.deepEqual(await twice.json(), invalidCode);

      const otherUri = await redeem(await codeFor('code_user'), {
        redirect_uri: 'http://127.0.0.1:9/other',
      });
      assert.deepEqual([otherUri.status, await otherUri.json()], [400, invalidCode]);

      state.clients.set('cid2', { clientId: 'cid2', clientSecret: 's2', redirectUris: [REDIRECT] });
      const otherClient = await redeem(await codeFor('code_user'), {
        client_id: 'cid2',
        client_secret: 's2',
      });
      assert.deepEqual([otherClient.status, await otherClient.json()], [400, invalidCode]);

      const late = await codeFor('code_user');
      clock += 600_000;
      assert.equal((await redeem(late)).status, 400, 'codes last 10 minutes');

      assert.deepEqual([(await redeem('made-up')).status], [400]);
    });

    it('refuses an unknown client and a wrong secret without spending the code', async () => {
      const code = await codeFor('secret_user');
      const fields = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT };
      const wrongSecret = await token({ ...fields, client_secret: 'wrong' });
      assert.equal(wrongSecret.status, 403);
      assert.deepEqual(await wrongSecret.json(), { status: 403, message: 'invalid client secret' });
      const unknown = await token({ ...fields, client_id: 'nope' });
      assert.equal(unknown.status, 400);
      assert.deepEqual(await unknown.json(), { status: 400, message: 'invalid client' });
      assert.equal((await token(fields)).status, 200);
    });

    it('rotates refresh tokens: the old refresh and access tokens stop working', async () => {
      const first = await userTokens('rotating_user');
      const refreshed = await token({
        grant_type: 'refresh_token',
        refresh_token: first.refresh_token,
      });
      assert.equal(refreshed.status, 200);
      const second = (await refreshed.json()) as UserTokens;
      assert.notEqual(second.access_token, first.access_token);
      assert.notEqual(second.refresh_token, first.refresh_token);
      assert.deepEqual(second.scope, ['user:read:email', 'chat:read']);
      assert.equal(second.token_type, 'bearer');

      const reused = await token({
        grant_type: 'refresh_token',
        refresh_token: first.refresh_token,
      });
      assert.equal(reused.status, 400);
      assert.deepEqual(await reused.json(), { status: 400, message: 'Invalid refresh token' });
      assert.equal((await validate(first.access_token)).status, 401);
      assert.equal((await helix('/users', first.access_token)).status, 401);
      assert.equal((await validate(second.access_token)).status, 200);

      const withAccessToken = await token({
        grant_type: 'refresh_token',
        refresh_token: second.access_token,
      });
      assert.equal(withAccessToken.status, 400);
    });

    it('issues app tokens with client_credentials, without a refresh token or scope', async () => {
      const response = await token({ grant_type: 'client_credentials' });
      assert.equal(response.status, 200);
      const body = (await response.json()) as Json;
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type']);
      assert.equal(body.expires_in, APP_TOKEN_SECONDS);
      assert.equal(body.token_type, 'bearer');
      const bad = await token({ grant_type: 'client_credentials', client_secret: 'wrong' });
      assert.equal(bad.status, 403);
    });

    it('refuses an unsupported grant type', async () => {
      const response = await token({ grant_type: 'password' });
      assert.equal(response.status, 400);
      assert.equal(((await response.json()) as Json).status, 400);
    });
  });

  describe('validate and revoke', () => {
    it('describes a user token, with OAuth or Bearer', async () => {
      const tokens = await userTokens('valid_user');
      const user = state.userByLogin('valid_user')!;
      clock += 1000;
      for (const scheme of ['OAuth', 'Bearer']) {
        const response = await validate(tokens.access_token, scheme);
        assert.equal(response.status, 200);
        assert.deepEqual(await response.json(), {
          client_id: 'cid',
          login: 'valid_user',
          scopes: ['user:read:email', 'chat:read'],
          user_id: user.id,
          expires_in: USER_TOKEN_SECONDS - 1,
        });
      }
    });

    it('describes an app token without login or user_id', async () => {
      const response = await validate(await appToken());
      assert.deepEqual(await response.json(), {
        client_id: 'cid',
        scopes: [],
        expires_in: APP_TOKEN_SECONDS,
      });
    });

    it('answers 401 for an unknown, expired or missing token', async () => {
      const unknown = await validate('nope');
      assert.equal(unknown.status, 401);
      assert.deepEqual(await unknown.json(), { status: 401, message: 'invalid access token' });
      const tokens = await userTokens('expiring_user');
      clock += USER_TOKEN_SECONDS * 1000;
      assert.equal((await validate(tokens.access_token)).status, 401);
      assert.equal((await fetch(`${url}/oauth2/validate`)).status, 401);
    });

    it('revokes a token of its own client, after which validate answers 401', async () => {
      const tokens = await userTokens('revoked_user');
      const unknownClient = await post('/revoke', {
        client_id: 'nope',
        token: tokens.access_token,
      });
      assert.deepEqual(
        [unknownClient.status, await unknownClient.json()],
        [400, { status: 400, message: 'invalid client' }],
      );
      state.clients.set('cid2', { clientId: 'cid2', clientSecret: 's2', redirectUris: [] });
      const otherClient = await post('/revoke', { client_id: 'cid2', token: tokens.access_token });
      assert.equal(otherClient.status, 400);
      assert.equal((await validate(tokens.access_token)).status, 200);

      const revoked = await post('/revoke', { client_id: 'cid', token: tokens.access_token });
      assert.equal(revoked.status, 200);
      assert.equal(await revoked.text(), '');
      assert.equal((await validate(tokens.access_token)).status, 401);
      const refreshed = await token({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
      });
      assert.equal(refreshed.status, 400, 'its refresh token goes with it');

      const again = await fetch(`${url}/oauth2/revoke?client_id=cid&token=${tokens.access_token}`, {
        method: 'POST',
      });
      assert.deepEqual(
        [again.status, await again.json()],
        [400, { status: 400, message: 'Invalid token' }],
      );
    });
  });

  describe('helix GET /users', () => {
    const FIELDS = [
      'broadcaster_type',
      'created_at',
      'description',
      'display_name',
      'id',
      'login',
      'offline_image_url',
      'profile_image_url',
      'type',
      'view_count',
    ];

    it('finds users by id and login, leaving unknown ones out, and never shows email to an app', async () => {
      const appTok = await appToken();
      const one = state.addUser('Helix_One');
      const two = state.addUser('helix_two');
      const response = await helix(
        `/users?id=${one.id}&id=424242&login=HELIX_TWO&login=nobody`,
        appTok,
      );
      assert.equal(response.status, 200);
      const body = (await response.json()) as HelixUsers;
      assert.deepEqual(body.data.map((u) => u.id).sort(), [one.id, two.id].sort());
      for (const user of body.data) assert.deepEqual(Object.keys(user).sort(), FIELDS);
      const first = body.data.find((u) => u.id === one.id)!;
      assert.equal(first.login, 'helix_one');
      assert.equal(first.display_name, 'Helix_One');
      assert.equal(first.view_count, 0);
      assert.equal(first.created_at, one.createdAt);

      const empty = (await (await helix('/users?login=nobody', appTok)).json()) as HelixUsers;
      assert.deepEqual(empty, { data: [] });
    });

    it("gives a user token its own user, with email only for the owner's token with the scope", async () => {
      const withEmail = await userTokens('email_owner', 'user:read:email');
      const own = (await (await helix('/users', withEmail.access_token)).json()) as HelixUsers;
      assert.equal(own.data.length, 1);
      assert.equal(own.data[0]!.login, 'email_owner');
      assert.equal(own.data[0]!.email, 'email_owner@example.com');
      assert.deepEqual(Object.keys(own.data[0]!).sort(), [...FIELDS, 'email'].sort());

      const other = state.addUser('someone_else');
      const lookup = (await (
        await helix(`/users?id=${other.id}`, withEmail.access_token)
      ).json()) as HelixUsers;
      assert.equal(lookup.data[0]!.email, undefined, 'not for another user');

      const noScope = await userTokens('no_email_user', 'chat:read');
      const plain = (await (await helix('/users', noScope.access_token)).json()) as HelixUsers;
      assert.equal(plain.data[0]!.login, 'no_email_user');
      assert.equal(plain.data[0]!.email, undefined, 'not without user:read:email');
    });

    it('answers 400 for an app token without id or login, and for more than 100 of them', async () => {
      const appTok = await appToken();
      const missing = await helix('/users', appTok);
      assert.equal(missing.status, 400);
      assert.match(String(((await missing.json()) as Json).message), /^Missing required parameter/);
      const ids = (n: number) => Array.from({ length: n }, (_, i) => `id=${i + 1}`).join('&');
      assert.equal((await helix(`/users?${ids(100)}`, appTok)).status, 200);
      assert.equal((await helix(`/users?${ids(101)}`, appTok)).status, 400);
      assert.equal(
        (await helix(`/users?${ids(60)}&login=a&${'login=b&'.repeat(40)}`, appTok)).status,
        400,
      );
    });

    it('answers 401 for a bad token or a Client-Id that is not the token’s', async () => {
      const appTok = await appToken();
      assert.equal((await helix('/users?login=x', 'nope')).status, 401);
      const mismatch = await helix('/users?login=x', appTok, 'someone-else');
      assert.equal(mismatch.status, 401);
      assert.equal(((await mismatch.json()) as Json).status, 401);
      const noClientId = await fetch(`${url}/helix/users?login=x`, {
        headers: { authorization: `Bearer ${appTok}` },
      });
      assert.equal(noClientId.status, 401);
    });

    it('sends rate-limit headers and answers 429 once the bucket is empty', async () => {
      mount(3);
      const appTok = await appToken();
      for (const remaining of ['2', '1', '0']) {
        const response = await helix('/users?login=x', appTok);
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('ratelimit-limit'), '3');
        assert.equal(response.headers.get('ratelimit-remaining'), remaining);
        assert.ok(Number(response.headers.get('ratelimit-reset')) >= Math.floor(clock / 1000));
      }
      const limited = await helix('/users?login=x', appTok);
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('ratelimit-remaining'), '0');
      assert.ok(Number(limited.headers.get('ratelimit-reset')) > clock / 1000);
      clock += 20_000;
      assert.equal(
        (await helix('/users?login=x', appTok)).status,
        200,
        'refilled 3 points a minute',
      );
    });
  });
});
