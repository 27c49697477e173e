import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Cluster } from 'ioredis';
import { isCluster, type RedisClient } from './connections/redis.js';
import type { Knex } from 'knex';
import type { Logger } from './logger.js';
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

export const redisCheck = (redis: RedisClient, name = 'redis'): ReadinessCheck => ({
  name,
  check: () => (isCluster(redis) ? pingEveryMaster(redis) : redis.ping()),
});

/**
 * A Cluster client's own PING reaches one node at random, and a master that went away drops out
 * of its pool while its slots still point at it: so every slot's master must be in the pool, and
 * every master must answer. Nothing else reloads the slots while no command fails (ioredis has no
 * periodic refresh by default), so a check that finds a master missing reloads them once, which
 * is how readiness comes back after a replica took over.
 */
async function pingEveryMaster(cluster: Cluster): Promise<void> {
  if (unreachableMaster(cluster) !== null) {
    await new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));
  }
  const missing = unreachableMaster(cluster);
  if (missing !== null) throw new Error(`Redis Cluster master ${missing} is not reachable`);
  await Promise.all(cluster.nodes('master').map((node) => node.ping()));
}

/** The first slot owner the client has no connection to, or null when every slot has one. */
function unreachableMaster(cluster: Cluster): string | null {
  const pooled = new Set(
    cluster.nodes('master').map((node) => `${node.options.host}:${node.options.port}`),
  );
  for (let slot = 0; slot < 16384; slot++) {
    const owner = cluster.slots[slot]?.[0];
    if (!owner || !pooled.has(owner)) return owner ?? `of slot ${slot}`;
  }
  return null;
}

export const databaseCheck = (knex: Knex): ReadinessCheck => ({
  name: 'postgres',
  check: () => knex.raw('select 1'),
});

/** What `/readyz` shows: which dependency is down, never why (the reason names hosts and users). */
export interface Readiness {
  ok: boolean;
  checks: Record<string, 'ok' | 'down'>;
}

interface CheckOutcome {
  name: string;
  /** Undefined when the check passed. */
  reason?: string;
}

async function runChecks(checks: ReadinessCheck[], timeoutMs: number): Promise<CheckOutcome[]> {
  const results = await Promise.allSettled(
    checks.map((c) => withTimeout(c.check(), timeoutMs, c.name)),
  );
  return results.map((result, i) => ({
    name: checks[i]!.name,
    reason:
      result.status === 'fulfilled'
        ? undefined
        : String((result.reason as Error)?.message ?? result.reason),
  }));
}

const toReadiness = (outcomes: CheckOutcome[]): Readiness => ({
  ok: outcomes.every((o) => o.reason === undefined),
  checks: Object.fromEntries(outcomes.map((o) => [o.name, o.reason === undefined ? 'ok' : 'down'])),
});

/** Runs every check with a timeout; `ok` only when all pass. */
export async function readiness(checks: ReadinessCheck[], timeoutMs = 2000): Promise<Readiness> {
  return toReadiness(await runChecks(checks, timeoutMs));
}

/**
 * `readiness` for a public endpoint that also keeps the reasons in the log: one line when a
 * dependency goes down (with why) and one when it is back, not one per probe, so that a
 * balancer probing every second does not flood the log.
 */
export function readinessProbe(
  checks: ReadinessCheck[],
  log: Logger,
  timeoutMs = 2000,
): () => Promise<Readiness> {
  const down = new Set<string>();
  return async () => {
    const outcomes = await runChecks(checks, timeoutMs);
    for (const { name, reason } of outcomes) {
      if (reason !== undefined && !down.has(name)) {
        down.add(name);
        log.warn({ dependency: name, reason }, `Readiness: ${name} is down: ${reason}`);
      } else if (reason === undefined && down.has(name)) {
        down.delete(name);
        log.info({ dependency: name }, `Readiness: ${name} is back`);
      }
    }
    return toReadiness(outcomes);
  };
}

/**
 * `/healthz` and `/readyz` (and `/metrics`, when given its handler) on a side port, for the
 * processes that serve no HTTP of their own. `probe`: see readinessProbe.
 */
export function startHealthServer(
  port: number,
  probe: () => Promise<Readiness>,
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
      probe().then(
        (result) => send(result.ok ? 200 : 503, result),
        () => send(503, { ok: false }),
      );
      return;
    }
    send(404, { error: { code: 'not_found', message: 'Not found' } });
  });
  return listen(server, port, 'HEALTH_PORT').then(() => server);
}
