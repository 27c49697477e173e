import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { io as connectSocket, type Socket } from 'socket.io-client';
import type { StreamEvent } from '../../src/shared/events/event.js';
import { createRealtimeTokens } from '../../src/shared/realtime-token.js';
import type { WatchAck } from '../../src/shared/realtime-protocol.js';
import { EVENTSUB_SECRET, SESSION_SECRET, startStack, type Stack } from '../helpers/stack.js';
import { deliver, followPayload } from '../helpers/twitch.js';
import { startNginx, type Nginx } from '../helpers/nginx.js';

const hostOf = (url: string) => new URL(url).host;
const API_LIMIT = 5;

/** docker/nginx.conf under the real nginx, in front of two web and two realtime nodes. */
describe('docker/nginx.conf in front of the stack (real nginx)', function () {
  this.timeout(60_000);
  let stack: Stack;
  let nginx: Nginx;
  const sockets: Socket[] = [];
  const tokens = createRealtimeTokens(SESSION_SECRET);

  before(async () => {
    // As docker/compose.yml runs web behind this nginx.
    stack = await startStack({ env: { TRUST_PROXY: '1', RATE_LIMIT_API_MAX: String(API_LIMIT) } });
    const secondWeb = await stack.startWebNode('web2');
    nginx = await startNginx({
      web: [hostOf(stack.webUrl), hostOf(secondWeb)],
      realtime: stack.realtimeUrls.map(hostOf),
    });
  });
  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await nginx?.stop();
    await stack?.stop();
  });

  async function watchThroughBalancer(
    transports: ('websocket' | 'polling')[],
    broadcasterId: string,
  ): Promise<{ socket: Socket; received: StreamEvent[] }> {
    const socket = connectSocket(nginx.url, {
      auth: (callback) => void tokens.issue('viewer-lb').then((token) => callback({ token })),
      transports,
      upgrade: false,
      reconnection: false,
    });
    sockets.push(socket);
    const received: StreamEvent[] = [];
    socket.on('event', (event: StreamEvent) => received.push(event));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const ack = (await socket.timeout(10_000).emitWithAck('watch', { broadcasterId })) as WatchAck;
    assert.equal(ack.ok, true);
    return { socket, received };
  }

  async function followThroughBalancer(broadcasterId: string): Promise<void> {
    const result = await deliver(`${nginx.url}/webhooks/twitch`, EVENTSUB_SECRET, {
      body: JSON.stringify(followPayload(broadcasterId, randomUUID().slice(0, 8))),
      subscriptionType: 'channel.follow',
      subscriptionVersion: '2',
    });
    assert.equal(result.status, 202, result.body);
  }

  async function eventually(check: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!check()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it("hands web the balancer's request id, so one id runs from nginx's log to web's", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${nginx.url}/healthz`);
      assert.equal(response.status, 200);
      const id = response.headers.get('x-request-id') ?? '';
      // nginx's $request_id: 32 hex digits, a new one per request (web's own would be a UUID).
      assert.match(id, /^[0-9a-f]{32}$/);
      ids.add(id);
    }
    assert.equal(ids.size, 4);
  });

  it('carries websockets to the realtime nodes: a webhook through nginx reaches a watcher through nginx', async () => {
    const broadcasterId = `lb${Date.now()}`;
    const viewer = await watchThroughBalancer(['websocket'], broadcasterId);
    await followThroughBalancer(broadcasterId);
    await eventually(() => viewer.received.length === 1, 'the follow over the websocket');
    assert.equal(viewer.received[0]?.broadcasterId, broadcasterId);
  });

  it('keeps HTTP long-polling on one realtime node (sticky), so the fallback transport works', async () => {
    const broadcasterId = `lp${Date.now()}`;
    // Long-polling is many requests: a balancer that spread them would lose the session.
    const viewers = await Promise.all(
      [1, 2, 3].map(() => watchThroughBalancer(['polling'], broadcasterId)),
    );
    for (let i = 0; i < 3; i++) await followThroughBalancer(broadcasterId);
    await eventually(
      () => viewers.every((viewer) => viewer.received.length === 3),
      'three follows on every polling viewer',
    );
    for (const viewer of viewers) assert.equal(viewer.socket.connected, true);
  });

  it('counts the client nginx saw, with TRUST_PROXY=1: a made-up X-Forwarded-For buys no budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < API_LIMIT + 2; i++) {
      const response = await fetch(`${nginx.url}/api/streamers/1234/events`, {
        headers: { 'x-forwarded-for': `203.0.113.${i + 1}` },
      });
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    assert.deepEqual(statuses, [...Array<number>(API_LIMIT).fill(200), 429, 429]);
  });
});
