import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemo, type Demo } from './dev-demo.js';
import { startDevPostgres, type DevPostgres } from './dev-postgres.js';
import { createProcessGroup, type ChildSpec } from './dev-processes.js';
import { ensureDevRedis, type DevRedis } from './dev-redis.js';
import { loadDevSecrets } from './dev-secrets.js';
import { loadConfig } from '../shared/config.js';

// `npm start`: the whole stack on one machine, with a Twitch simulator unless TWITCH_CLIENT_ID is set.
const began = Date.now();
const say = (line: string) => process.stdout.write(`streamfeed: ${line}\n`);
const env = process.env;
const given = (key: string) => Boolean(env[key]); // empty means unset, as in config.ts
const dist = (file: string) => fileURLToPath(new URL(`../${file}`, import.meta.url));
const portOf = (key: string, fallback: number): number => {
  const port = given(key) ? Number(env[key]) : fallback;
  if (Number.isInteger(port) && port > 0 && port < 65536) return port;
  say(`${key} must be a port number, not "${env[key]}"`);
  process.exit(1);
};
const dataDir = path.resolve(env.STREAMFEED_DATA_DIR || dist('../.data'));
const port = portOf('PORT', 3000);
const simPort = portOf('SIM_PORT', 3900);
const simulated = !given('TWITCH_CLIENT_ID');
const publicUrl = env.PUBLIC_URL || `http://localhost:${port}`;
const simUrl = `http://127.0.0.1:${simPort}`;
const local = (p: number, route = '/readyz') => ({ url: `http://127.0.0.1:${p}${route}` });

const group = createProcessGroup({
  json: env.DEV_LOG_FORMAT === 'json',
  onUnexpectedExit: (name, code, signal) => {
    say(`${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything`);
    void shutdown(1);
  },
});
let postgres: Promise<DevPostgres | undefined> | undefined;
let redis: Promise<DevRedis | undefined> | undefined;
let demo: Demo | undefined;
let stopping = false;

/** Children first (they drain), the simulator, then the PostgreSQL and Redis started here. */
async function shutdown(code: number): Promise<void> {
  if (stopping) {
    say('stopping now: SIGKILL to what is left');
    return group.kill();
  }
  stopping = true;
  say('stopping… (Ctrl-C again to kill)');
  demo?.stop();
  await group.stop((name) => name !== 'simulator');
  await group.stop();
  const pg = await postgres?.catch(() => undefined);
  await pg?.stop().catch((error: Error) => say(`PostgreSQL: could not stop: ${error.message}`));
  await (await redis?.catch(() => undefined))?.stop();
  say('stopped');
  process.exit(code);
}
process.stdout.on('error', () => undefined); // a closed terminal must not cut the shutdown short
// Under `npm start`, one Ctrl-C can arrive twice: from the terminal and forwarded by npm (when
// its shell execs the launcher, as bash does). Only a later one means "kill now".
let firstSignalAt = 0;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (stopping && Date.now() - firstSignalAt < 500) return;
    firstSignalAt ||= Date.now();
    void shutdown(0);
  });
}

try {
  postgres = given('DATABASE_URL')
    ? Promise.resolve(undefined)
    : startDevPostgres(dataDir, portOf('DEV_POSTGRES_PORT', 54329), say);
  const pg = await postgres;
  say(pg ? `PostgreSQL: ready (${seconds()})` : 'PostgreSQL: using DATABASE_URL');
  // A Redis Cluster is the operator's (REDIS_CLUSTER_NODES): nothing to start here.
  const clustered = given('REDIS_CLUSTER_NODES');
  redis =
    given('REDIS_URL') || clustered ? Promise.resolve(undefined) : ensureDevRedis(dataDir, say);
  const ownRedis = await redis;
  if (clustered) {
    say(`Redis: using the Redis Cluster of REDIS_CLUSTER_NODES (${env.REDIS_CLUSTER_NODES})`);
  } else if (!ownRedis) say('Redis: using REDIS_URL');
  const secrets =
    given('TWITCH_EVENTSUB_SECRET') && given('SESSION_SECRET') ? {} : loadDevSecrets(dataDir);
  const twitch = simulated
    ? {
        TWITCH_CLIENT_ID: 'streamfeed-dev-client',
        TWITCH_CLIENT_SECRET: 'streamfeed-dev-secret',
        TWITCH_AUTH_URL: `${simUrl}/oauth2`,
        TWITCH_API_URL: `${simUrl}/helix`,
      }
    : {};
  const base: NodeJS.ProcessEnv = {
    ...env,
    ...Object.fromEntries(Object.entries(secrets).filter(([key]) => !given(key))),
    ...twitch,
    DATABASE_URL: pg?.url ?? env.DATABASE_URL,
    REDIS_URL: ownRedis?.url ?? env.REDIS_URL,
    PUBLIC_URL: publicUrl,
    REALTIME_URL: env.REALTIME_URL || `http://localhost:${port + 1}`,
  };
  const start = (
    name: string,
    script: string,
    ready: ChildSpec['ready'],
    extra: NodeJS.ProcessEnv = {},
  ) => group.start({ name, script: dist(script), env: { ...base, ...extra }, ready });

  await start('release', 'shared/db/migrate.main.js', 'exit');
  say(`migrations: done (${seconds()})`);
  if (simulated) {
    await start('simulator', 'simulator/main.js', local(simPort, '/sim/users'), {
      PORT: String(simPort),
      SIM_CLIENT_ID: twitch.TWITCH_CLIENT_ID,
      SIM_CLIENT_SECRET: twitch.TWITCH_CLIENT_SECRET,
      SIM_REDIRECT_URIS: `${publicUrl}/auth/twitch/callback`,
      SIM_REQUIRE_HTTPS_CALLBACK: env.SIM_REQUIRE_HTTPS_CALLBACK || 'false',
    });
    say(`simulator: ${simUrl} (Twitch is simulated: TWITCH_CLIENT_ID is not set)`);
  } else {
    const urls = [
      base.TWITCH_AUTH_URL || 'https://id.twitch.tv/oauth2',
      base.TWITCH_API_URL || 'https://api.twitch.tv/helix',
    ];
    say(`Twitch: real, no simulator (TWITCH_CLIENT_ID is set): ${urls.join(', ')}`);
    if (!publicUrl.startsWith('https://')) {
      say('Twitch: EventSub needs PUBLIC_URL to be an https URL on port 443 that reaches web');
    }
  }
  await Promise.all([
    start('web', 'api/main.js', local(port), { PORT: String(port) }),
    start('realtime-1', 'realtime/main.js', local(port + 1), { PORT: String(port + 1) }),
    start('realtime-2', 'realtime/main.js', local(port + 2), { PORT: String(port + 2) }),
    start('processor', 'workers/processor.js', local(port + 3), { HEALTH_PORT: String(port + 3) }),
    start('emitter', 'workers/emitter.js', local(port + 4), { HEALTH_PORT: String(port + 4) }),
  ]);
  say(`web: ${publicUrl}`);
  say(`realtime: http://localhost:${port + 1}, http://localhost:${port + 2}`);
  say(`processor, emitter: health on :${port + 3}, :${port + 4} (${seconds()})`);
  const own = [pg?.pid && `postgres ${pg.pid}`, ownRedis?.pid && `redis-server ${ownRedis.pid}`];
  say(`pids: ${[...own.filter(Boolean), ...group.pids()].join(', ')}`);
  if (simulated) {
    demo = await startDemo({
      simUrl,
      clientId: twitch.TWITCH_CLIENT_ID!,
      databaseUrl: base.DATABASE_URL!,
      // Read as every process reads it (the children have checked it by now).
      redis: loadConfig('emitter', base).redis,
      redisPrefix: env.REDIS_PREFIX || 'sf',
      say,
    });
    const list = demo.streamers.map((s) => `${s.login} (${s.id})`).join(', ');
    say(`demo: an event every 2-4 s from ${list}`);
  }
  say(`ready in ${seconds()}: open ${publicUrl} (Ctrl-C stops everything)`);
} catch (error) {
  if (!stopping) {
    // One line, whatever failed: the reason and what to do are in the message.
    say(`cannot start: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')}`);
    await shutdown(1);
  }
}

function seconds(): string {
  return `${((Date.now() - began) / 1000).toFixed(1)} s`;
}
