import { createDatabase } from '../shared/connections/database.js';
import { closeRedis, createRedis, type RedisTarget } from '../shared/connections/redis.js';
import { createLogger } from '../shared/logger.js';
import { createStreamerStore } from '../shared/db/streamer-store.js';
import { JOBS, QUEUES, createQueue, enqueue } from '../shared/queues.js';
import { STREAMER_MODE_SCOPES, plannedSubscriptions } from '../shared/twitch/subscription-plan.js';

/** Fixed ids (below the simulator's random range) keep a viewer's favourite across restarts. */
const DEMO_STREAMERS = [
  { id: '1000001', login: 'demo_pixel', displayName: 'Demo_Pixel' },
  { id: '1000002', login: 'demo_luna', displayName: 'Luna_Ünïcørn' },
  { id: '1000003', login: 'demo_retro', displayName: 'RetroRaccoon🎮' },
];
/** How often a type comes up, relative to 1 for every other subscribed type. */
const WEIGHT: Record<string, number> = {
  'channel.follow': 6,
  'channel.subscribe': 3,
  'channel.cheer': 3,
  'channel.subscription.message': 2,
};

export interface DemoOptions {
  simUrl: string;
  clientId: string;
  databaseUrl: string;
  /** The stack's Redis: one server, or the cluster of REDIS_CLUSTER_NODES. */
  redis: RedisTarget;
  redisPrefix: string;
  say: (line: string) => void;
}
export interface Demo {
  streamers: Array<{ id: string; login: string }>;
  stop(): void;
}
interface SimSubscription {
  type: string;
  status: string;
  condition: Record<string, string>;
}

async function call<T>(url: string, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/**
 * Demo streamers who "connected their channel" (streamer mode, every scope granted) so that
 * streamfeed's own subscription worker subscribes them, as it would a real streamer (and the
 * reconciliation keeps them, which subscriptions made behind its back would not be).
 */
async function registerStreamers(options: DemoOptions): Promise<Demo['streamers']> {
  const knex = createDatabase(options.databaseUrl);
  // Silent: the queue's own errors report what matters, once.
  const redis = createRedis(options.redis, 'dev-demo', 'blocking', createLogger('silent', 'demo'));
  const queue = createQueue(QUEUES.subscriptions, redis, options.redisPrefix);
  try {
    const store = createStreamerStore(knex);
    const streamers: Demo['streamers'] = [];
    for (const demo of DEMO_STREAMERS) {
      // An older data folder may know the login under another id: keep that one.
      const known = await knex('streamers')
        .whereRaw('lower(login) = ?', [demo.login])
        .first<{ id: string } | undefined>('id');
      const user = await call<{ id: string; login: string; displayName: string }>(
        `${options.simUrl}/sim/users`,
        {
          ...demo,
          id: known?.id ?? demo.id,
          grant: { clientId: options.clientId, scopes: STREAMER_MODE_SCOPES },
        },
      );
      await store.upsert({ ...user, profileImageUrl: '' });
      await store.setGrantedScopes(user.id, STREAMER_MODE_SCOPES);
      // Nobody has them as favourite: without this, a restart a day later would find them idle.
      await knex('streamers').where({ id: user.id }).update({ unwanted_since: null });
      streamers.push({ id: user.id, login: user.login });
    }
    // The simulator starts empty while the database remembers the last run's subscriptions:
    // reconciling marks those missing and re-ensures every wanted streamer (favourites too).
    await enqueue(queue, JOBS.reconcileSubscriptions, {});
    return streamers;
  } finally {
    await queue.close();
    await closeRedis(redis);
    await knex.destroy();
  }
}

/** Waits (up to 60 s) until every planned subscription of the streamers is enabled. */
async function enabledTypes(options: DemoOptions, ids: string[]): Promise<Map<string, string[]>> {
  const expected = ids.reduce(
    (n, id) => n + plannedSubscriptions(id, STREAMER_MODE_SCOPES).length,
    0,
  );
  const owner = (s: SimSubscription) => ids.find((id) => Object.values(s.condition).includes(id));
  let enabled: SimSubscription[] = [];
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const { data } = await call<{ data: SimSubscription[] }>(`${options.simUrl}/sim/subscriptions`);
    enabled = data.filter((s) => s.status === 'enabled' && owner(s));
    if (enabled.length >= expected) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (enabled.length < expected) {
    options.say(`demo: only ${enabled.length} of ${expected} subscriptions enabled; going on`);
  }
  const types = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const s of enabled) {
    const weight = WEIGHT[s.type] ?? 1;
    types.get(owner(s)!)!.push(...Array<string>(weight).fill(s.type));
  }
  return types;
}

/** Demo streamers, subscribed, and a gentle stream of their events (one every 2-4 s). */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const streamers = await registerStreamers(options);
  const types = await enabledTypes(
    options,
    streamers.map((s) => s.id),
  );
  const live = streamers.filter((s) => types.get(s.id)!.length > 0);
  let stopped = false;
  let lastError = '';
  let timer: NodeJS.Timeout | undefined;
  const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)]!;
  const next = () => {
    if (stopped || live.length === 0) return;
    timer = setTimeout(
      () => {
        const streamer = pick(live);
        void call(`${options.simUrl}/sim/events`, {
          type: pick(types.get(streamer.id)!),
          broadcasterId: streamer.id,
        })
          .then(
            () => (lastError = ''),
            (error: Error) => {
              if (!stopped && error.message !== lastError) options.say(`demo: ${error.message}`);
              lastError = error.message;
            },
          )
          .finally(next);
      },
      2000 + Math.random() * 2000,
    );
  };
  next();
  return {
    streamers,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
