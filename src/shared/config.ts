import path from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_AHEAD,
  PARTITION_INTERVALS,
  type PartitionInterval,
} from './db/partition-interval.js';
import { TRUST_PROXY_FORMS, parseTrustProxy, type TrustProxy } from './trust-proxy.js';

/** The local default of the dev stack; never used when NODE_ENV=production. */
const DEV_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/streamfeed';
/** The dev default SESSION_SECRET of earlier versions: public, so anyone can sign with it. */
const PUBLIC_SESSION_SECRET = 'streamfeed-dev-session-secret-not-for-production';

const ascii = /^[\x20-\x7e]+$/;
const urlOf = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );
// Decimal digits only: Number() would read " " as 0 (a random port) and "0x0FA3" as hex.
const decimal = (pattern: RegExp, kind: string, min: number, max: number) => {
  const message = `must be ${kind} from ${min} to ${max}, in decimal digits`;
  return z
    .string()
    .regex(pattern, message)
    .transform(Number)
    .refine((n) => n >= min && n <= max, message);
};
const int = (min: number, max: number) => decimal(/^\d+$/, 'a whole number', min, max);
const port = () => int(1, 65535);

/** A seed node of REDIS_CLUSTER_NODES: `host:port`, or `[v6address]:port`. */
export interface RedisNode {
  host: string;
  port: number;
}
const NODE_FORM = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;
const redisNodes = z.string().transform((value, context): RedisNode[] => {
  const nodes: RedisNode[] = [];
  for (const entry of value.split(',').map((part) => part.trim())) {
    const match = NODE_FORM.exec(entry);
    const port = Number(match?.[3]);
    if (!match || port < 1 || port > 65535) {
      context.addIssue({
        code: 'custom',
        message: `"${entry}" is not host:port (seed nodes separated by commas, e.g. 10.0.0.1:6379,10.0.0.2:6379)`,
      });
      return z.NEVER;
    }
    nodes.push({ host: match[1] ?? match[2]!, port });
  }
  return nodes;
});
const yesNo = z
  .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT: port().default(3000),
  HEALTH_PORT: port().optional(),
  DATABASE_URL: urlOf(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: urlOf(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, "_" or "-"')
    .default('sf'),
  REDIS_CLUSTER_NODES: redisNodes.optional(),
  REDIS_TLS: yesNo.default(false),
  REDIS_USERNAME: z.string().min(1).max(256).optional(),
  REDIS_PASSWORD: z.string().min(1).max(512).optional(),
  QUEUE_SHARDS: int(1, 64).optional(),
  WORKER_SHARDS: z
    .string()
    .regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'must be shard numbers and ranges, e.g. 0-2,5')
    .optional(),
  PUBLIC_URL: urlOf(['http:', 'https:']).optional(),
  REALTIME_URL: urlOf(['http:', 'https:']).optional(),
  TWITCH_CLIENT_ID: z.string().min(1).optional(),
  TWITCH_CLIENT_SECRET: z.string().min(1).optional(),
  TWITCH_EVENTSUB_SECRET: z
    .string()
    .min(10, 'must be 10-100 ASCII characters')
    .max(100, 'must be 10-100 ASCII characters')
    .regex(ascii, 'must be 10-100 ASCII characters')
    .optional(),
  SESSION_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters')
    .refine((value) => value !== PUBLIC_SESSION_SECRET, 'is a public value; make your own')
    .optional(),
  TWITCH_AUTH_URL: urlOf(['http:', 'https:']).default('https://id.twitch.tv/oauth2'),
  TWITCH_API_URL: urlOf(['http:', 'https:']).default('https://api.twitch.tv/helix'),
  WEBHOOK_BODY_LIMIT: int(1024, 10 * 1024 * 1024).default(1024 * 1024),
  REDIS_ACK_REPLICAS: int(0, 5).default(0),
  REDIS_ACK_TIMEOUT_MS: int(10, 10_000).default(1000),
  EVENT_PARTITION_INTERVAL: z
    .enum(PARTITION_INTERVALS, { message: `must be one of ${PARTITION_INTERVALS.join(', ')}` })
    .default('month'),
  EVENT_RETENTION: int(1, 3660).optional(),
  /** Deprecated: EVENT_RETENTION with EVENT_PARTITION_INTERVAL=month. */
  EVENT_RETENTION_MONTHS: int(1, 120).optional(),
  EVENT_PARTITIONS_AHEAD: int(0, 400).optional(),
  EVENT_ARCHIVE_DIR: z
    .string()
    .refine(
      (dir) => path.isAbsolute(dir),
      'must be an absolute path (a folder, or a mounted bucket)',
    )
    .optional(),
  DEDUPE_WINDOW_SECONDS: int(60, 7 * 86400)
    // Twitch resends within minutes; each key costs Redis memory at the webhook rate.
    .default(3600),
  // 64, not 16: the more callbacks in flight, the more events share each notify and persist job
  // (docs/BENCHMARKS.md: 1,500 events/s held with 64, not with 16).
  PROCESSOR_CONCURRENCY: int(1, 1000).default(64),
  EMITTER_CONCURRENCY: int(1, 1000).default(16),
  SUBSCRIPTION_IDLE_HOURS: decimal(/^\d+(\.\d+)?$/, 'a number of hours', 0, 24 * 90).default(24),
  RECONCILE_INTERVAL_MINUTES: int(1, 24 * 60).default(10),
  BACKFILL_MAX_FOLLOWS: int(1, 100_000).default(1000),
  BACKFILL_MAX_AGE_HOURS: int(1, 24 * 60).default(7 * 24),
  BACKFILL_DELAY_SECONDS: int(0, 3600).default(15),
  RATE_LIMIT_WINDOW_SECONDS: int(1, 3600).default(60),
  RATE_LIMIT_AUTH_MAX: int(1, 1_000_000).default(30),
  RATE_LIMIT_API_MAX: int(1, 1_000_000).default(600),
  REALTIME_MAX_CONNECTIONS_PER_USER: int(1, 10_000).default(10),
  REALTIME_MAX_WATCHES_PER_CONNECTION: int(1, 1000).default(20),
  JOB_LOCK_MS: int(1000, 600_000).default(30_000),
  SHUTDOWN_TIMEOUT_MS: int(1000, 120_000).default(25_000),
  DATABASE_STATEMENT_TIMEOUT_MS: int(0, 600_000).default(15_000),
  METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
  OPERATOR_USER_IDS: z
    .string()
    .transform((value) => value.split(',').map((id) => id.trim()))
    .pipe(z.array(z.string().regex(/^\d{1,20}$/, 'must be Twitch user ids separated by commas')))
    .optional(),
  OPERATOR_LOGINS: z
    .string()
    .transform((value) => value.split(',').map((login) => login.trim().toLowerCase()))
    .pipe(
      z.array(z.string().regex(/^[a-z0-9_]{1,25}$/, 'must be Twitch logins separated by commas')),
    )
    .optional(),
  TRUST_PROXY: z
    .string()
    .transform((value, context): TrustProxy => {
      const parsed = parseTrustProxy(value);
      if (parsed !== undefined) return parsed;
      context.addIssue({ code: 'custom', message: `must be ${TRUST_PROXY_FORMS}` });
      return z.NEVER;
    })
    .default(0),
  WEB_DRAIN_MS: int(0, 60_000).default(0),
  RATE_LIMIT_FAVORITE_MAX: int(1, 1_000_000).default(10),
  FAVORITE_NEW_STREAMERS_PER_DAY: int(1, 1_000_000).default(10),
  // 0 turns follow waves off: every follow is a row of its own.
  FOLLOW_WAVE_THRESHOLD: int(0, 100_000).default(20),
  FOLLOW_WAVE_WINDOW_SECONDS: int(1, 3600).default(10),
  REPLAY_INTERVAL_SECONDS: int(1, 3600).default(10),
});

export type Env = z.infer<typeof envSchema>;

/**
 * Where Redis is. `cluster` is set by REDIS_CLUSTER_NODES, and then `url` is not used; TLS and
 * the credentials apply to every node of the cluster (ElastiCache: the AUTH token or an RBAC
 * user). A single Redis takes them from its `rediss://user:password@host` URL instead.
 */
export interface RedisConfig {
  url: string;
  prefix: string;
  cluster:
    { nodes: readonly RedisNode[]; tls: boolean; username?: string; password?: string } | undefined;
  /** Hash-tagged queues per sharded queue (see queues.ts). */
  queueShards: number;
  /** The shards this processor or emitter works, ascending: WORKER_SHARDS, or all of them. */
  workerShards: readonly number[];
  /**
   * Replicas that must have a write before it counts (REDIS_ACK_REPLICAS; WAIT for at most
   * `ackTimeoutMs`): see connections/replica-ack.ts. 0: the master's word is enough.
   */
  ackReplicas: number;
  ackTimeoutMs: number;
}

/** `0-2,5` -> [0, 1, 2, 5]; every number below `shards`, or the problem. */
function parseShardList(list: string, shards: number): number[] | string {
  const picked = new Set<number>();
  for (const part of list.split(',')) {
    const [from, to = from] = part.split('-').map(Number) as [number, number?];
    if (to < from) return `${part} is a range backwards`;
    if (to >= shards) {
      return `${part} is beyond the ${shards} shard(s) of QUEUE_SHARDS (0-${shards - 1})`;
    }
    for (let shard = from; shard <= to; shard++) picked.add(shard);
  }
  return [...picked].sort((a, b) => a - b);
}

/**
 * One queue per callback shard on a single Redis: its one core runs every queue's scripts, so
 * more queues only cost connections. On a cluster, 3: on 3 masters the best balance measured
 * (no master over 40% of the commands), and each shard more costs Redis, processor and emitter
 * CPU per event, since batches form per shard (docs/BENCHMARKS.md, "Redis Cluster").
 */
export const DEFAULT_QUEUE_SHARDS = { single: 1, cluster: 3 } as const;

export interface Config {
  env: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  http: {
    port: number;
    healthPort: number | undefined;
    publicUrl: string;
    realtimeUrl: string;
    /** Which X-Forwarded-For entries `web` believes: see trust-proxy.ts. */
    trustProxy: TrustProxy;
  };
  /** `statementTimeoutMs`: see DatabaseOptions in connections/database.ts. */
  db: { url: string; statementTimeoutMs: number };
  redis: RedisConfig;
  twitch: {
    clientId: string | undefined;
    clientSecret: string | undefined;
    /** Set whenever the process's role needs it (ConfigFor says so). */
    eventSubSecret: string | undefined;
    authUrl: string;
    apiUrl: string;
  };
  /** Set whenever the process's role needs it (ConfigFor says so). */
  session: { secret: string | undefined };
  webhook: { bodyLimit: number };
  /**
   * `events` partitions: one per `partitionInterval`, `partitionsAhead` made ahead, `retention`
   * intervals kept before the current one; older ones are archived to `archiveDir`, then dropped
   * (only dropped without it). See docs/OPERATIONS.md, "Event partitions, retention and archives".
   */
  events: {
    partitionInterval: PartitionInterval;
    retention: number;
    partitionsAhead: number;
    archiveDir: string | undefined;
    dedupeWindowSeconds: number;
  };
  workers: { processorConcurrency: number; emitterConcurrency: number; lockMs: number };
  subscriptions: { idleMs: number; reconcileIntervalMs: number };
  /** Follow backfill after downtime: how far back, how many at most, how long after a trigger. */
  backfill: { maxFollows: number; maxAgeMs: number; delayMs: number };
  rateLimits: { windowSeconds: number; authMax: number; apiMax: number };
  realtime: { maxConnectionsPerUser: number; maxWatchesPerConnection: number };
  shutdownTimeoutMs: number;
  /** Who may use the queue dashboard: Twitch user ids, and lowercase logins; nobody when both are empty. */
  operators: { userIds: ReadonlySet<string>; logins: ReadonlySet<string> };
  /** Bearer token for `/metrics` on every process; metrics are off without one. */
  metricsToken: string | undefined;
  /** How long `web` keeps serving after SIGTERM while load balancers stop sending it traffic. */
  webDrainMs: number;
  /** What one viewer may cost: favourite changes per rate-limit window, new streamers per day. */
  favorites: { changeMax: number; newStreamersPerDay: number };
  /**
   * More than `threshold` follows of one streamer within `windowMs` make a follow wave: the rest
   * of the burst is one growing entry (feed/follow-waves.ts). Off when `threshold` is 0.
   */
  followWaves: { threshold: number; windowMs: number };
  /** At most one replay per streamer in this many seconds (REPLAY_INTERVAL_SECONDS). */
  replay: { intervalSeconds: number };
}

/**
 * What each process type requires beyond the common variables, so that none refuses to start
 * for a variable it never reads (`release` has no use for the EventSub secret).
 * - `eventSubSecret`: TWITCH_EVENTSUB_SECRET, always (verifying and creating subscriptions).
 * - `sessionSecret`: SESSION_SECRET, always: it signs sessions and realtime tokens, and no
 *   default is safe (`npm start` makes one per data folder).
 * - `database`, `twitchApp`: DATABASE_URL, TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET when
 *   NODE_ENV=production (elsewhere the local database, and login off without the app).
 */
export const ROLE_NEEDS = {
  web: ['eventSubSecret', 'sessionSecret', 'database', 'twitchApp'],
  realtime: ['sessionSecret'],
  processor: ['eventSubSecret', 'database', 'twitchApp'],
  emitter: [],
  release: ['database'],
  jobs: [],
} as const satisfies Record<string, readonly Need[]>;

export type Need = 'eventSubSecret' | 'sessionSecret' | 'database' | 'twitchApp';
export type ProcessRole = keyof typeof ROLE_NEEDS;

/** The fields a need guarantees. */
interface Provided {
  eventSubSecret: { twitch: { eventSubSecret: string } };
  sessionSecret: { session: { secret: string } };
}
type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;

/** The config of one process type: what its role needs is typed as present. */
export type ConfigFor<R extends ProcessRole> = Readonly<
  Config & Intersection<Provided[Extract<(typeof ROLE_NEEDS)[R][number], keyof Provided>]>
>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** About half a year of events in each interval. */
export const DEFAULT_RETENTION = { month: 6, week: 26, day: 183 } as const;
const MAX_RETENTION = { month: 120, week: 520, day: 3660 } as const;

/** EVENT_RETENTION in units of the interval; EVENT_RETENTION_MONTHS still works for months. */
function eventRetention(e: Env, problems: string[]): number {
  const interval = e.EVENT_PARTITION_INTERVAL;
  if (e.EVENT_RETENTION_MONTHS !== undefined) {
    if (e.EVENT_RETENTION !== undefined) {
      problems.push(
        'EVENT_RETENTION_MONTHS: is replaced by EVENT_RETENTION; set only EVENT_RETENTION',
      );
    } else if (interval !== 'month') {
      problems.push(
        `EVENT_RETENTION_MONTHS: counts months, but EVENT_PARTITION_INTERVAL is ${interval}; set EVENT_RETENTION (${interval}s) instead`,
      );
    }
    return e.EVENT_RETENTION_MONTHS;
  }
  const retention = e.EVENT_RETENTION ?? DEFAULT_RETENTION[interval];
  if (retention > MAX_RETENTION[interval]) {
    problems.push(
      `EVENT_RETENTION: must be at most ${MAX_RETENTION[interval]} with EVENT_PARTITION_INTERVAL=${interval}`,
    );
  }
  return retention;
}

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

/** The variables `needs` asks for that `env` (empty ones removed) lacks. */
function missing(env: Record<string, string | undefined>, needs: readonly Need[]): string[] {
  const problems: string[] = [];
  if (needs.includes('eventSubSecret') && !env.TWITCH_EVENTSUB_SECRET) {
    problems.push('TWITCH_EVENTSUB_SECRET: is required (10-100 ASCII characters)');
  }
  if (needs.includes('sessionSecret') && !env.SESSION_SECRET) {
    problems.push(
      'SESSION_SECRET: is required (at least 32 characters; e.g. `openssl rand -hex 32`, the same on every web and realtime node)',
    );
  }
  if (env.NODE_ENV !== 'production') return problems;
  const productionKeys = [
    ...(needs.includes('database') ? (['DATABASE_URL'] as const) : []),
    ...(needs.includes('twitchApp') ? (['TWITCH_CLIENT_ID', 'TWITCH_CLIENT_SECRET'] as const) : []),
  ];
  for (const key of productionKeys) {
    if (!env[key]) problems.push(`${key}: is required when NODE_ENV=production`);
  }
  return problems;
}

/**
 * Parses the environment once for a process of type `role`; throws a ConfigError naming every
 * bad variable, and every one the role needs that is missing.
 */
export function loadConfig<R extends ProcessRole>(
  role: R,
  source: NodeJS.ProcessEnv = process.env,
): ConfigFor<R> {
  // An empty variable means "unset", as in most .env tooling.
  const env = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  problems.push(...missing(env, ROLE_NEEDS[role]));
  if (!parsed.success) throw new ConfigError(problems);

  const e = parsed.data;
  if (!e.REDIS_CLUSTER_NODES) {
    for (const key of ['REDIS_TLS', 'REDIS_USERNAME', 'REDIS_PASSWORD'] as const) {
      if (env[key] !== undefined) {
        problems.push(
          `${key}: applies to REDIS_CLUSTER_NODES only; for one Redis put it in REDIS_URL (rediss://user:password@host:port)`,
        );
      }
    }
  }
  const queueShards =
    e.QUEUE_SHARDS ??
    (e.REDIS_CLUSTER_NODES ? DEFAULT_QUEUE_SHARDS.cluster : DEFAULT_QUEUE_SHARDS.single);
  const workerShards = e.WORKER_SHARDS
    ? parseShardList(e.WORKER_SHARDS, queueShards)
    : Array.from({ length: queueShards }, (_, shard) => shard);
  if (typeof workerShards === 'string') problems.push(`WORKER_SHARDS: ${workerShards}`);
  if (e.WEB_DRAIN_MS >= e.SHUTDOWN_TIMEOUT_MS) {
    problems.push(
      `WEB_DRAIN_MS: must be shorter than SHUTDOWN_TIMEOUT_MS (${e.SHUTDOWN_TIMEOUT_MS}), or shutdown is cut off while draining`,
    );
  }
  const retention = eventRetention(e, problems);
  if (problems.length) throw new ConfigError(problems);

  const publicUrl = withoutTrailingSlash(e.PUBLIC_URL ?? `http://localhost:${e.PORT}`);
  const config: Config = {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    http: {
      port: e.PORT,
      healthPort: e.HEALTH_PORT,
      publicUrl,
      realtimeUrl: withoutTrailingSlash(e.REALTIME_URL ?? publicUrl),
      trustProxy: e.TRUST_PROXY,
    },
    db: {
      url: e.DATABASE_URL ?? DEV_DATABASE_URL,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    redis: {
      url: e.REDIS_URL,
      prefix: e.REDIS_PREFIX,
      cluster: e.REDIS_CLUSTER_NODES && {
        nodes: e.REDIS_CLUSTER_NODES,
        tls: e.REDIS_TLS,
        ...(e.REDIS_USERNAME ? { username: e.REDIS_USERNAME } : {}),
        ...(e.REDIS_PASSWORD ? { password: e.REDIS_PASSWORD } : {}),
      },
      queueShards,
      workerShards: workerShards as number[],
      ackReplicas: e.REDIS_ACK_REPLICAS,
      ackTimeoutMs: e.REDIS_ACK_TIMEOUT_MS,
    },
    twitch: {
      clientId: e.TWITCH_CLIENT_ID,
      clientSecret: e.TWITCH_CLIENT_SECRET,
      eventSubSecret: e.TWITCH_EVENTSUB_SECRET,
      authUrl: withoutTrailingSlash(e.TWITCH_AUTH_URL),
      apiUrl: withoutTrailingSlash(e.TWITCH_API_URL),
    },
    session: { secret: e.SESSION_SECRET },
    webhook: { bodyLimit: e.WEBHOOK_BODY_LIMIT },
    events: {
      partitionInterval: e.EVENT_PARTITION_INTERVAL,
      retention,
      partitionsAhead: e.EVENT_PARTITIONS_AHEAD ?? DEFAULT_AHEAD[e.EVENT_PARTITION_INTERVAL],
      archiveDir: e.EVENT_ARCHIVE_DIR,
      dedupeWindowSeconds: e.DEDUPE_WINDOW_SECONDS,
    },
    workers: {
      processorConcurrency: e.PROCESSOR_CONCURRENCY,
      emitterConcurrency: e.EMITTER_CONCURRENCY,
      lockMs: e.JOB_LOCK_MS,
    },
    subscriptions: {
      idleMs: e.SUBSCRIPTION_IDLE_HOURS * 3600_000,
      reconcileIntervalMs: e.RECONCILE_INTERVAL_MINUTES * 60_000,
    },
    backfill: {
      maxFollows: e.BACKFILL_MAX_FOLLOWS,
      maxAgeMs: e.BACKFILL_MAX_AGE_HOURS * 3600_000,
      delayMs: e.BACKFILL_DELAY_SECONDS * 1000,
    },
    rateLimits: {
      windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS,
      authMax: e.RATE_LIMIT_AUTH_MAX,
      apiMax: e.RATE_LIMIT_API_MAX,
    },
    realtime: {
      maxConnectionsPerUser: e.REALTIME_MAX_CONNECTIONS_PER_USER,
      maxWatchesPerConnection: e.REALTIME_MAX_WATCHES_PER_CONNECTION,
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    webDrainMs: e.WEB_DRAIN_MS,
    metricsToken: e.METRICS_TOKEN,
    operators: {
      userIds: new Set(e.OPERATOR_USER_IDS ?? []),
      logins: new Set(e.OPERATOR_LOGINS ?? []),
    },
    favorites: {
      changeMax: e.RATE_LIMIT_FAVORITE_MAX,
      newStreamersPerDay: e.FAVORITE_NEW_STREAMERS_PER_DAY,
    },
    followWaves: {
      threshold: e.FOLLOW_WAVE_THRESHOLD,
      windowMs: e.FOLLOW_WAVE_WINDOW_SECONDS * 1000,
    },
    replay: { intervalSeconds: e.REPLAY_INTERVAL_SECONDS },
  };
  // Checked above: every field the role needs is set.
  return Object.freeze(config) as ConfigFor<R>;
}

/** For entry points: the config, or one line per problem on stderr and exit 1. */
export function loadConfigOrExit<R extends ProcessRole>(role: R): ConfigFor<R> {
  try {
    return loadConfig(role);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`streamfeed ${role}: cannot start, ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
