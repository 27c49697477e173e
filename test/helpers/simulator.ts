import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSimulator, type SimulatorOptions } from '../../src/simulator/simulator-app.js';
import { startStack, type Stack, type StackOptions } from './stack.js';
import { freePort } from './processes.js';

export const SIM_CLIENT = { clientId: 'sim-client-id', clientSecret: 'sim-client-secret' };

/** Every access and refresh token the test run's simulators issued, revoked ones included. */
export const issuedTwitchTokens = new Set<string>();

function recordKeys(map: Map<string, unknown>): void {
  const set = map.set.bind(map);
  map.set = (key, value) => {
    issuedTwitchTokens.add(key);
    return set(key, value);
  };
}

export interface RunningSimulator extends ReturnType<typeof createSimulator> {
  url: string;
  appToken: string;
  helix(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
  close(): Promise<void>;
}

/** The simulator in-process on a free port, with one registered client and an app token. */
export async function startSimulator(
  options: Partial<SimulatorOptions> & { redirectUri?: string } = {},
): Promise<RunningSimulator> {
  const simulator = createSimulator({
    clients: [
      {
        ...SIM_CLIENT,
        redirectUris: [options.redirectUri ?? 'http://127.0.0.1:9/auth/twitch/callback'],
      },
    ],
    requireHttpsCallback: false,
    retryDelaysMs: [50, 100, 200],
    timeoutMs: 2000,
    ...options,
  });
  recordKeys(simulator.state.tokens);
  recordKeys(simulator.state.refreshTokens);
  const server = await listen(createServer(simulator.app));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const appToken = simulator.state.issueAppToken(SIM_CLIENT.clientId).accessToken;
  return {
    ...simulator,
    url,
    appToken,
    helix(path, init = {}) {
      const { token = appToken, ...rest } = init;
      return fetch(`${url}/helix${path}`, {
        ...rest,
        headers: {
          authorization: `Bearer ${token}`,
          'client-id': SIM_CLIENT.clientId,
          'content-type': 'application/json',
          ...(rest.headers as Record<string, string> | undefined),
        },
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface RecordedRequest {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A webhook receiver whose answers a test scripts, recording every request it gets. */
export async function startCallback(
  answer: (req: RecordedRequest, index: number) => { status: number; body?: string; type?: string },
) {
  const requests: RecordedRequest[] = [];
  const server = await listen(
    createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const recorded = { headers: req.headers, body: Buffer.concat(chunks).toString() };
        requests.push(recorded);
        const reply = answer(recorded, requests.length - 1);
        res
          .writeHead(reply.status, { 'content-type': reply.type ?? 'text/plain' })
          .end(reply.body ?? '');
      });
    }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/twitch`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Answers a challenge correctly and notifications with 204, as a healthy receiver does. */
export const healthyReceiver = (req: RecordedRequest) =>
  req.headers['twitch-eventsub-message-type'] === 'webhook_callback_verification'
    ? { status: 200, body: (JSON.parse(req.body) as { challenge: string }).challenge }
    : { status: 204 };

function listen(server: Server): Promise<Server> {
  // A port this test run has not used before: see freePort.
  return freePort().then(
    (port) => new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server))),
  );
}

export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The real stack with Twitch pointed at an in-process simulator that knows web's callback. */
export async function startStackWithSimulator(
  options: StackOptions = {},
): Promise<{ sim: RunningSimulator; stack: Stack }> {
  const sim = await startSimulator();
  const stack = await startStack({
    ...options,
    env: {
      TWITCH_CLIENT_ID: SIM_CLIENT.clientId,
      TWITCH_CLIENT_SECRET: SIM_CLIENT.clientSecret,
      TWITCH_AUTH_URL: `${sim.url}/oauth2`,
      TWITCH_API_URL: `${sim.url}/helix`,
      ...options.env,
    },
  });
  sim.state.clients
    .get(SIM_CLIENT.clientId)!
    .redirectUris.push(`${stack.webUrl}/auth/twitch/callback`);
  return { sim, stack };
}

export interface SimDelivery {
  delivered: boolean;
  messageId: string;
}

/**
 * Makes an event of `type` happen on `broadcasterId`'s channel in the simulator (`POST
 * /sim/events`), which delivers it to every subscription that wants it; returns those deliveries.
 */
export async function simEvent(
  sim: RunningSimulator,
  event: { type: string; broadcasterId: string; userLogin?: string; overrides?: object },
): Promise<SimDelivery[]> {
  const response = await fetch(`${sim.url}/sim/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
  return ((await response.json()) as { deliveries: SimDelivery[] }).deliveries;
}
