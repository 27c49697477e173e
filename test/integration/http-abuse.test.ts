import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startStackWithSimulator, waitUntil, type RunningSimulator } from '../helpers/simulator.js';
import type { Stack } from '../helpers/stack.js';
import { Browser, logInThroughSimulator } from '../helpers/cookie-browser.js';

const API_MAX = 6;
const AUTH_MAX = 4;
const METRICS_TOKEN = 'http-abuse-metrics-token';

describe('HTTP abuse: rate limits shared by every web node, body limits', function () {
  this.timeout(60_000);
  let sim: RunningSimulator;
  let stack: Stack;
  let secondWeb: string;

  before(async () => {
    ({ sim, stack } = await startStackWithSimulator({
      without: ['processor', 'emitter', 'realtime'],
      env: {
        RATE_LIMIT_WINDOW_SECONDS: '60',
        RATE_LIMIT_API_MAX: String(API_MAX),
        RATE_LIMIT_AUTH_MAX: String(AUTH_MAX),
        METRICS_TOKEN,
        // As behind the compose balancer: one proxy hop, whose X-Forwarded-For names the client.
        TRUST_PROXY: '1',
      },
    }));
    secondWeb = await stack.startWebNode('web2');
  });
  after(async () => {
    await stack?.stop();
    await sim?.close();
  });

  /** Each test is its own client: `web` trusts one proxy hop (TRUST_PROXY=1), as behind the load balancer. */
  const client =
    (ip: string) =>
    (url: string, init: RequestInit = {}) =>
      fetch(url, {
        redirect: 'manual',
        ...init,
        headers: { 'x-forwarded-for': ip, ...(init.headers as Record<string, string>) },
      });

  it('counts /api requests across both web nodes and answers 429 with Retry-After past the limit', async () => {
    const get = client('203.0.113.10');
    const statuses: number[] = [];
    for (let n = 0; n < API_MAX; n++) {
      const node = n % 2 === 0 ? stack.webUrl : secondWeb;
      const response = await get(`${node}/api/streamers/1234/events`);
      await response.arrayBuffer();
      statuses.push(response.status);
      assert.match(response.headers.get('ratelimit-policy') ?? '', /^"api"; q=6; w=60;/);
    }
    assert.ok(!statuses.includes(429), `within the limit: ${statuses.join(',')}`);

    const refused = await get(`${secondWeb}/api/streamers/1234/events`);
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'rate_limited');
    assert.match(body.error.message, new RegExp(`at most ${API_MAX} per 60 s`));
    assert.equal((await get(`${stack.webUrl}/api/me`)).status, 429, 'the first node agrees');

    const other = await client('203.0.113.11')(`${stack.webUrl}/api/streamers/1234/events`);
    assert.notEqual(other.status, 429, 'another client has its own budget');
    const logs = stack.processes.get('web')!.output() + stack.processes.get('web2')!.output();
    assert.equal(
      logs.match(/rate limit: 203\.0\.113\.10 went over/g)?.length,
      1,
      'one log line per client and window, not one per refused request',
    );
  });

  it('believes X-Forwarded-For only with TRUST_PROXY: without it, rotating the header gets no new budget', async () => {
    const direct = await stack.startWebNode('web-direct', { TRUST_PROXY: '' });
    await waitUntil(async () => (await fetch(`${direct}/readyz`)).ok, 10_000, 'web-direct ready');
    const rotating = async (node: string, n: number) => {
      const response = await client(`198.51.100.${n}`)(`${node}/api/streamers/1234/events`);
      await response.arrayBuffer();
      return response.status;
    };
    const statuses: number[] = [];
    for (let n = 0; n <= API_MAX; n++) statuses.push(await rotating(direct, n));
    assert.deepEqual(
      statuses,
      [...Array<number>(API_MAX).fill(200), 429],
      'one client, however it names itself',
    );
    assert.doesNotMatch(
      stack.processes.get('web-direct')!.output(),
      /198\.51\.100\./,
      'the forwarded addresses are not believed, nor logged as the client',
    );

    // With TRUST_PROXY=1 each forwarded address is a client of its own: none is over its limit.
    const trusted: number[] = [];
    for (let n = 0; n <= API_MAX; n++) trusted.push(await rotating(stack.webUrl, 100 + n));
    assert.ok(!trusted.includes(429), `trusted: ${trusted.join(',')}`);
  });

  it('limits /auth separately from /api, and never limits Twitch webhooks', async () => {
    const get = client('203.0.113.20');
    for (let n = 0; n < AUTH_MAX; n++) {
      const start = await get(`${n % 2 ? secondWeb : stack.webUrl}/auth/twitch`);
      assert.equal(start.status, 302);
      assert.ok(start.headers.get('location')!.startsWith(`${sim.url}/oauth2/authorize?`));
    }
    assert.equal((await get(`${stack.webUrl}/auth/twitch`)).status, 429);
    assert.equal((await get(`${stack.webUrl}/api/streamers/1234/events`)).status, 200);

    for (let n = 0; n < AUTH_MAX + API_MAX + 2; n++) {
      const webhook = await get(`${stack.webhookUrl}`, { method: 'POST', body: '{}' });
      assert.equal(webhook.status, 403, 'an unsigned webhook is refused, but never rate limited');
    }
  });

  it('refuses an oversized or malformed JSON body with a readable error, keeping the favourite', async () => {
    sim.state.addUser('kept_favorite');
    const browser = await logInThroughSimulator(
      stack.webUrl,
      'body_limit_viewer',
      new Browser({ 'x-forwarded-for': '203.0.113.30' }),
    );
    const put = (body: string) =>
      browser.get(`${stack.webUrl}/api/me/favorite`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body,
      });
    assert.equal((await put(JSON.stringify({ login: 'kept_favorite' }))).status, 200);

    const oversized = await put(JSON.stringify({ login: 'x'.repeat(5000) }));
    assert.equal(oversized.status, 413);
    assert.deepEqual(await oversized.json(), {
      error: { code: 'payload_too_large', message: 'Request body is too large' },
    });
    const malformed = await put('{"login": ');
    assert.equal(malformed.status, 400);
    assert.equal(
      ((await malformed.json()) as { error: { code: string } }).error.code,
      'bad_request',
    );

    const me = (await (await browser.get(`${stack.webUrl}/api/me`)).json()) as {
      favorite: { login: string };
    };
    assert.equal(me.favorite.login, 'kept_favorite', 'a refused body changes nothing');
  });
  it('answers every spelling of /metrics at once, as /metrics or 404, never holding the connection', async () => {
    const get = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${stack.webUrl}${path}`, { headers, signal: AbortSignal.timeout(2000) });
    for (const path of ['/metrics', '/metrics/', '/METRICS', '/Metrics', '/metrics?x=1']) {
      const open = await get(path);
      assert.equal(open.status, 401, path);
      assert.equal(((await open.json()) as { error: { code: string } }).error.code, 'unauthorized');
      const scraped = await get(path, { authorization: `bearer ${METRICS_TOKEN}` });
      assert.equal(scraped.status, 200, path);
      assert.match(await scraped.text(), /^streamfeed_http_request_duration_seconds/m, path);
    }
    for (const path of ['/metrics//', '/metrics/x', '/metricsx', '/METRICS.txt']) {
      assert.equal((await get(path)).status, 404, path);
    }
  });
  it('serves no source map of the client, not even one left in the public folder', async () => {
    const page = await (await fetch(`${stack.webUrl}/`)).text();
    const assets = [...page.matchAll(/"\/((?:app|style)-[A-Z0-9]{8}\.(?:js|css))"/g)].map(
      (m) => m[1]!,
    );
    assert.equal(assets.length, 2, page);
    for (const asset of assets) {
      const served = await fetch(`${stack.webUrl}/${asset}`);
      assert.equal(served.status, 200, asset);
      assert.doesNotMatch(await served.text(), /sourceMappingURL/, asset);
      assert.equal((await fetch(`${stack.webUrl}/${asset}.map`)).status, 404, `${asset}.map`);
    }
    const stale = `stale-${randomUUID()}.js.map`;
    const file = fileURLToPath(new URL(`../../dist/public/${stale}`, import.meta.url));
    writeFileSync(file, '{"version":3,"sources":["secret.ts"]}');
    try {
      assert.equal((await fetch(`${stack.webUrl}/${stale}`)).status, 404);
    } finally {
      rmSync(file);
    }
  });
});
