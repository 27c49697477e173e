import assert from 'node:assert/strict';
import { SignJWT, UnsecuredJWT } from 'jose';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { createRealtimeTokens } from '../../src/shared/realtime-token.js';
import { SESSION_SECRET, startStack, type Stack } from '../helpers/stack.js';
import { waitUntil } from '../helpers/simulator.js';

const MAX_CONNECTIONS = 3;
const MAX_WATCHES = 4;
const METRICS_TOKEN = 'socket-abuse-metrics-token';

describe('socket abuse: tokens, connection and watch caps, bad messages', function () {
  this.timeout(60_000);
  let stack: Stack;
  const tokens = createRealtimeTokens(SESSION_SECRET);
  const open: Socket[] = [];

  before(async () => {
    stack = await startStack({
      without: ['web', 'processor', 'emitter'],
      env: {
        REALTIME_MAX_CONNECTIONS_PER_USER: String(MAX_CONNECTIONS),
        REALTIME_MAX_WATCHES_PER_CONNECTION: String(MAX_WATCHES),
        METRICS_TOKEN,
      },
    });
  });
  afterEach(() => {
    for (const socket of open.splice(0)) socket.disconnect();
  });
  after(async () => {
    await stack?.stop();
  });

  /** Resolves with the socket once connected, or with the server's refusal message. */
  function connect(token: unknown, node = 0): Promise<Socket | string> {
    const socket = connectSocket(stack.realtimeUrls[node], {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    open.push(socket);
    return new Promise((resolve) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (error) => resolve(error.message));
    });
  }
  /** A handshake the client drops 0-3 ms after sending its token, before the node answers. */
  function abandonedHandshake(token: string): Promise<void> {
    const socket = connectSocket(stack.realtimeUrls[0], {
      auth: (callback) => {
        callback({ token });
        // As a client whose network went: the TCP connection ends with no closing handshake,
        // right after the token went out (delay 0) or 1-3 ms later.
        const { ws } = socket.io.engine.transport as unknown as { ws: { terminate(): void } };
        const delay = Math.floor(Math.random() * 4);
        if (delay === 0) ws.terminate();
        else setTimeout(() => ws.terminate(), delay);
      },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    open.push(socket);
    return new Promise((resolve) => setTimeout(resolve, 50));
  }
  /**
   * A long-polling handshake whose one request carries the token and engine.io's close packet:
   * the node reads both before its handshake middleware is done, every time.
   */
  async function handshakeClosedWithToken(token: string): Promise<void> {
    const url = `${stack.realtimeUrls[0]}/socket.io/?EIO=4&transport=polling`;
    const opened = await (await fetch(url)).text();
    const { sid } = JSON.parse(opened.slice(1)) as { sid: string };
    const response = await fetch(`${url}&sid=${sid}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: `40${JSON.stringify({ token })}\x1e1`,
    });
    assert.equal(await response.text(), 'ok');
  }
  /** Sockets the first node holds, as its metrics say. */
  async function socketsOnNode(): Promise<number> {
    const response = await fetch(`${stack.realtimeUrls[0]}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    const line = /^streamfeed_sockets_connected(?:{[^}]*})? (\d+)$/m.exec(await response.text());
    assert.ok(line, 'the node reports its sockets');
    return Number(line[1]);
  }
  const watch = (socket: Socket, broadcasterId: unknown) =>
    socket.timeout(5000).emitWithAck('watch', { broadcasterId }) as Promise<{
      ok: boolean;
      error?: string;
    }>;

  it('refuses tokens for another audience, unsigned ones, and ones signed with another secret', async () => {
    const key = new TextEncoder().encode(SESSION_SECRET);
    const otherAudience = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('viewer-1')
      .setAudience('someone-else')
      .setIssuer('streamfeed:web')
      .setExpirationTime('5m')
      .sign(key);
    const unsigned = new UnsecuredJWT({})
      .setSubject('viewer-1')
      .setAudience('streamfeed:realtime')
      .setIssuer('streamfeed:web')
      .setExpirationTime('5m')
      .encode();
    const otherSecret = await createRealtimeTokens('x'.repeat(40)).issue('viewer-1');
    for (const token of [otherAudience, unsigned, otherSecret, 'a.b.c']) {
      assert.equal(await connect(token), 'unauthorized: invalid token', token);
    }
    for (const notAString of [['a'], { token: 'x' }, 42]) {
      assert.equal(await connect(notAString), 'unauthorized: missing token');
    }
  });

  it('caps the sockets one viewer holds on a node, and frees a place when one closes', async () => {
    const token = await tokens.issue('greedy-viewer');
    const sockets: Socket[] = [];
    for (let n = 0; n < MAX_CONNECTIONS; n++) {
      const socket = await connect(token);
      assert.notEqual(
        typeof socket,
        'string',
        `connection ${n + 1}: ${typeof socket === 'string' ? socket : 'connected'}`,
      );
      sockets.push(socket as Socket);
    }
    assert.equal(
      await connect(token),
      `too many connections: at most ${MAX_CONNECTIONS} per viewer and node`,
    );
    assert.notEqual(typeof (await connect(await tokens.issue('modest-viewer'))), 'string');

    sockets[0]!.disconnect();
    let again: Socket | string = '';
    for (let i = 0; i < 40 && typeof again !== 'object'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      again = await connect(token);
    }
    assert.equal(typeof again, 'object', 'a closed socket gives its place back');
  });

  it('gives back the place of a handshake the client dropped before it completed', async () => {
    const token = await tokens.issue('flaky-viewer');
    const allowed: number[] = [];
    for (let round = 0; round < 4; round++) {
      // As the issue's repro: websocket handshakes dropped within 0-3 ms of the token. Those
      // lose the race only now and then; the long-polling ones lose it every time.
      await Promise.all([
        ...Array.from({ length: 100 }, () => abandonedHandshake(token)),
        ...Array.from({ length: 100 }, () => handshakeClosedWithToken(token)),
      ]);
      for (const socket of open.splice(0)) socket.disconnect();
      await waitUntil(async () => (await socketsOnNode()) === 0, 10_000, 'no socket on the node');
      const results = [];
      for (let n = 0; n < MAX_CONNECTIONS; n++) results.push(await connect(token));
      allowed.push(results.filter((r) => typeof r !== 'string').length);
      for (const socket of open.splice(0)) socket.disconnect();
    }
    assert.deepEqual(
      allowed,
      allowed.map(() => MAX_CONNECTIONS),
      'connections allowed in each round, after 200 dropped handshakes',
    );
    await waitUntil(async () => (await socketsOnNode()) === 0, 10_000, 'no socket on the node');
    const racing = await Promise.all(
      Array.from({ length: 2 * MAX_CONNECTIONS }, () => connect(token)),
    );
    assert.equal(
      racing.filter((r) => typeof r !== 'string').length,
      MAX_CONNECTIONS,
      'the cap still holds for handshakes that race each other',
    );
  });

  it('caps the streamers one socket watches', async () => {
    const socket = (await connect(await tokens.issue('many-streamers'))) as Socket;
    for (let n = 0; n < MAX_WATCHES; n++) assert.equal((await watch(socket, `90${n}`)).ok, true);
    assert.deepEqual(await watch(socket, '999'), {
      ok: false,
      error: `a connection may watch at most ${MAX_WATCHES} streamers`,
    });
    assert.equal((await watch(socket, '900')).ok, true, 'watching one again is no new watch');
    await socket.timeout(5000).emitWithAck('unwatch', { broadcasterId: '901' });
    assert.equal((await watch(socket, '999')).ok, true);
  });

  it('closes a socket that sends an oversized message, ignores unknown events, and stays up', async () => {
    const token = await tokens.issue('noisy-viewer');
    const socket = (await connect(token)) as Socket;
    socket.emit('no-such-event', { a: 1 });
    socket.emit('watch', 'not even an object, and no ack');
    socket.emit('watch', Buffer.alloc(1024));
    assert.equal((await watch(socket, '7777')).ok, true, 'still answering after junk');

    const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    socket.emit('watch', { broadcasterId: '1', since: 'x'.repeat(20 * 1024) });
    assert.equal(await closed, 'transport close');

    const fresh = (await connect(token)) as Socket;
    assert.equal((await watch(fresh, '7777')).ok, true);
    assert.equal(stack.processes.get('realtime1')!.child.exitCode, null);
    assert.doesNotMatch(stack.processes.get('realtime1')!.output(), /uncaught|unhandled/i);
  });

  it("answers at once every HTTP path that is not Engine.IO's own, '/socket.io' itself included", async () => {
    // Engine.IO takes '/socket.io/...' only; a path merely starting with '/socket.io' once hung.
    const expected: Record<string, number> = {
      '/socket.io': 404,
      '/socket.iox': 404,
      '/socket.io.js': 404,
      '/nothing': 404,
      '/healthz': 200,
      '/socket.io/?EIO=4&transport=polling': 200,
    };
    for (const [path, status] of Object.entries(expected)) {
      const response = await fetch(`${stack.realtimeUrls[0]}${path}`, {
        signal: AbortSignal.timeout(2000),
      });
      assert.equal(response.status, status, path);
    }
  });
});
