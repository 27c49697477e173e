import {
  createServer as createHttpServer,
  request,
  type IncomingMessage,
  type Server as HttpServer,
} from 'node:http';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './processes.js';

export interface LoadBalancer {
  url: string;
  /** Connections (TCP) or requests (HTTP) handed to each backend port so far. */
  handedTo: Map<number, number>;
  close(): Promise<void>;
}

export interface BalancerOptions {
  /** Only nodes whose `healthPath` answered 200 at the last check get new traffic. */
  healthPath?: string;
  checkEveryMs?: number;
}

/** Round robin over the healthy nodes (over all of them when none is), checked every interval. */
function createBackendPool(ports: number[], options: BalancerOptions) {
  const healthy = new Map(ports.map((p) => [p, true]));
  const handedTo = new Map(ports.map((p) => [p, 0]));
  let turn = 0;
  const check = (backend: number) =>
    new Promise<boolean>((resolve) => {
      const req = request(
        { host: '127.0.0.1', port: backend, path: options.healthPath, timeout: 1000, agent: false },
        (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        },
      );
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  const checker = options.healthPath
    ? setInterval(() => {
        for (const backend of ports) void check(backend).then((ok) => healthy.set(backend, ok));
      }, options.checkEveryMs ?? 200)
    : undefined;
  return {
    handedTo,
    /** The order to try nodes in for one new connection or request. */
    candidates(): number[] {
      const up = ports.filter((p) => healthy.get(p));
      const order = up.length ? up : ports;
      turn = (turn + 1) % order.length;
      return [...order.slice(turn), ...order.slice(0, turn)];
    },
    handed(port: number) {
      handedTo.set(port, (handedTo.get(port) ?? 0) + 1);
    },
    stop() {
      clearInterval(checker);
    },
  };
}

/** Listens on a free port; `close` stops the health checks, drops connections, and closes. */
async function balancerOn(
  server: Server | HttpServer,
  pool: ReturnType<typeof createBackendPool>,
  dropConnections: () => void,
): Promise<LoadBalancer> {
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    handedTo: pool.handedTo,
    close: () =>
      new Promise((resolve) => {
        pool.stop();
        dropConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A TCP balancer, for WebSockets: each client connection is pinned to one node, and goes to the
 * next node when a connection is refused (nothing was sent yet, so nothing can be doubled).
 */
export async function startLoadBalancer(
  backendPorts: number[],
  options: BalancerOptions = {},
): Promise<LoadBalancer> {
  const pool = createBackendPool(backendPorts, options);
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const connect = (client: Socket, ports: number[]) => {
    const [target, ...rest] = ports;
    if (target === undefined || client.destroyed) return client.destroy();
    const upstream = createConnection(target, '127.0.0.1');
    let connected = false;
    upstream.once('error', () => {
      if (!connected) connect(client, rest);
    });
    upstream.once('connect', () => {
      connected = true;
      track(upstream);
      pool.handed(target);
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  };
  const server = createServer((client) => {
    track(client);
    client.pause();
    connect(client, pool.candidates());
  });
  return balancerOn(server, pool, () => {
    for (const socket of sockets) socket.destroy();
  });
}

/**
 * An HTTP balancer, as a platform router or nginx is: it keeps the clients' keep-alive
 * connections itself and sends each request to a node on a connection of its own, trying the
 * next node when one refuses the connection. A client therefore never sees a node go away.
 */
export async function startHttpLoadBalancer(
  backendPorts: number[],
  options: BalancerOptions = {},
): Promise<LoadBalancer> {
  const pool = createBackendPool(backendPorts, options);
  const forward = (client: IncomingMessage, body: Buffer, ports: number[]) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const [target, ...rest] = ports;
      if (target === undefined) return reject(new Error('no node accepted the connection'));
      const upstream = request(
        {
          host: '127.0.0.1',
          port: target,
          method: client.method,
          path: client.url,
          headers: { ...client.headers, connection: 'close' },
          agent: false,
        },
        (response) => {
          pool.handed(target);
          resolve(response);
        },
      );
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNREFUSED') resolve(forward(client, body, rest));
        else reject(error);
      });
      upstream.end(body);
    });
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      forward(req, Buffer.concat(chunks), pool.candidates()).then(
        (response) => {
          const headers = { ...response.headers };
          delete headers.connection;
          delete headers['keep-alive'];
          res.writeHead(response.statusCode ?? 502, headers);
          response.pipe(res);
        },
        (error: Error) => {
          res.writeHead(502, { 'content-type': 'text/plain' }).end(`balancer: ${error.message}`);
        },
      );
    });
  });
  return balancerOn(server, pool, () => server.closeAllConnections());
}
