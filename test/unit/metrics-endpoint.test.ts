import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter } from 'prom-client';
import { createMetricsRegistry, serveMetrics } from '../../src/shared/metrics.js';

async function serve(token: string | undefined): Promise<{ server: Server; url: string }> {
  const registry = createMetricsRegistry('test');
  new Counter({ name: 'streamfeed_test_total', help: 'a test counter', registers: [registry] }).inc(
    3,
  );
  const metrics = serveMetrics(registry, token);
  const server = createServer((req, res) => {
    if (!metrics(req, res)) res.writeHead(418).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

describe('the /metrics endpoint', () => {
  it('is off, and says how to turn it on, without a token', async () => {
    const { server, url } = await serve(undefined);
    try {
      const response = await fetch(`${url}/metrics`);
      assert.equal(response.status, 404);
      assert.match(await response.text(), /set METRICS_TOKEN/);
    } finally {
      server.close();
    }
  });

  it('serves the registry to the token holder only, and leaves other paths alone', async () => {
    const { server, url } = await serve('a-token-of-sixteen-chars');
    try {
      const ok = await fetch(`${url}/metrics?x=1`, {
        headers: { authorization: 'Bearer a-token-of-sixteen-chars' },
      });
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /^streamfeed_test_total\{process_type="test"\} 3$/m);
      const refused = await fetch(`${url}/metrics`, {
        headers: { authorization: 'Bearer a-token-of-sixteen-charz' },
      });
      assert.equal(refused.status, 401);
      assert.equal((await fetch(`${url}/metricsx`)).status, 418);
    } finally {
      server.close();
    }
  });
});

describe('the /metrics endpoint, as clients may spell it', () => {
  const TOKEN = 'a-token-of-sixteen-chars';

  it('takes the Bearer scheme in any letter case (RFC 7235), and nothing but the token', async () => {
    const { server, url } = await serve(TOKEN);
    try {
      for (const scheme of ['bearer', 'BEARER', 'Bearer', 'bEaReR']) {
        const response = await fetch(`${url}/metrics`, {
          headers: { authorization: `${scheme} ${TOKEN}` },
        });
        assert.equal(response.status, 200, scheme);
        assert.match(await response.text(), /^streamfeed_test_total/m, scheme);
      }
      for (const wrong of [`Basic ${TOKEN}`, `Bearer${TOKEN}`, TOKEN, `Bearer ${TOKEN} x`]) {
        const response = await fetch(`${url}/metrics`, { headers: { authorization: wrong } });
        assert.equal(response.status, 401, wrong);
      }
    } finally {
      server.close();
    }
  });

  it('answers /metrics/, /METRICS and /Metrics as /metrics, with or without a token', async () => {
    for (const token of [TOKEN, undefined]) {
      const { server, url } = await serve(token);
      try {
        for (const path of ['/metrics/', '/METRICS', '/Metrics', '/metrics/?x=1']) {
          const response = await fetch(`${url}${path}`, {
            headers: { authorization: `Bearer ${TOKEN}` },
          });
          assert.equal(response.status, token ? 200 : 404, `${path} with token ${token}`);
        }
        assert.equal((await fetch(`${url}/metrics//`)).status, 418, 'not its path');
      } finally {
        server.close();
      }
    }
  });
});
