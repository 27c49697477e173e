import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { listen } from './listen.js';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<unknown>;
}

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref();
    }),
  ]);

export const redisCheck = (redis: Redis, name = 'redis'): ReadinessCheck => ({
  name,
  check: () => redis.ping(),
});

export const databaseCheck = (knex: Knex): ReadinessCheck => ({
  name: 'postgres',
  check: () => knex.raw('select 1'),
});

/** Runs every check with a timeout; `ok` only when all pass. */
export async function readiness(
  checks: ReadinessCheck[],
  timeoutMs = 2000,
): Promise<{ ok: boolean; checks: Record<string, string> }> {
  const results = await Promise.allSettled(
    checks.map((c) => withTimeout(c.check(), timeoutMs, c.name)),
  );
  const report: Record<string, string> = {};
  results.forEach((result, i) => {
    report[checks[i]!.name] =
      result.status === 'fulfilled'
        ? 'ok'
        : String((result.reason as Error)?.message ?? result.reason);
  });
  return { ok: results.every((r) => r.status === 'fulfilled'), checks: report };
}

/**
 * `/healthz` and `/readyz` (and `/metrics`, when given its handler) on a side port, for the
 * processes that serve no HTTP of their own.
 */
export function startHealthServer(
  port: number,
  checks: ReadinessCheck[],
  metrics?: (req: IncomingMessage, res: ServerResponse) => boolean,
): Promise<Server> {
  const server = createServer((req, res) => {
    if (metrics?.(req, res)) return;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/healthz') return send(200, { ok: true });
    if (req.url === '/readyz') {
      readiness(checks).then(
        (result) => send(result.ok ? 200 : 503, result),
        () => send(503, { ok: false }),
      );
      return;
    }
    send(404, { error: { code: 'not_found', message: 'Not found' } });
  });
  return listen(server, port, 'HEALTH_PORT').then(() => server);
}
