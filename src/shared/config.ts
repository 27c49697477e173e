import { z } from 'zod';

/** The local defaults of the dev stack; never used when NODE_ENV=production. */
const DEV_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/streamfeed';
const DEV_SESSION_SECRET = 'streamfeed-dev-session-secret-not-for-production';

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
const optionalInt = (min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).optional();

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HEALTH_PORT: optionalInt(0, 65535),
  DATABASE_URL: urlOf(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: urlOf(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, "_" or "-"')
    .default('sf'),
  PUBLIC_URL: urlOf(['http:', 'https:']).optional(),
  REALTIME_URL: urlOf(['http:', 'https:']).optional(),
  TWITCH_CLIENT_ID: z.string().min(1).optional(),
  TWITCH_CLIENT_SECRET: z.string().min(1).optional(),
  TWITCH_EVENTSUB_SECRET: z
    .string({ error: 'is required (10-100 ASCII characters)' })
    .min(10, 'must be 10-100 ASCII characters')
    .max(100, 'must be 10-100 ASCII characters')
    .regex(ascii, 'must be 10-100 ASCII characters'),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  TWITCH_AUTH_URL: urlOf(['http:', 'https:']).default('https://id.twitch.tv/oauth2'),
  TWITCH_API_URL: urlOf(['http:', 'https:']).default('https://api.twitch.tv/helix'),
  WEBHOOK_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .max(10 * 1024 * 1024)
    .default(1024 * 1024),
  EVENT_RETENTION_MONTHS: z.coerce.number().int().min(1).max(120).default(6),
  DEDUPE_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86400)
    // Twitch resends within minutes; each key costs Redis memory at the webhook rate.
    .default(3600),
  // 64, not 16: the more callbacks in flight, the more events share each notify and persist job
  // (docs/BENCHMARKS.md: 1,500 events/s held with 64, not with 16).
  PROCESSOR_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(64),
  EMITTER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
  SUBSCRIPTION_IDLE_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 90)
    .default(24),
  RECONCILE_INTERVAL_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(10),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  RATE_LIMIT_AUTH_MAX: z.coerce.number().int().min(1).max(1_000_000).default(30),
  RATE_LIMIT_API_MAX: z.coerce.number().int().min(1).max(1_000_000).default(600),
  REALTIME_MAX_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).max(10_000).default(10),
  REALTIME_MAX_WATCHES_PER_CONNECTION: z.coerce.number().int().min(1).max(1000).default(20),
  JOB_LOCK_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).max(120_000).default(25_000),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(15_000),
  METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
  OPERATOR_LOGINS: z
    .string()
    .transform((value) => value.split(',').map((login) => login.trim().toLowerCase()))
    .pipe(
      z.array(z.string().regex(/^[a-z0-9_]{1,25}$/, 'must be Twitch logins separated by commas')),
    )
    .optional(),
  WEB_DRAIN_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  RATE_LIMIT_FAVORITE_MAX: z.coerce.number().int().min(1).max(1_000_000).default(10),
  FAVORITE_NEW_STREAMERS_PER_DAY: z.coerce.number().int().min(1).max(1_000_000).default(10),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  http: { port: number; healthPort: number | undefined; publicUrl: string; realtimeUrl: string };
  /** `statementTimeoutMs`: see DatabaseOptions in connections/database.ts. */
  db: { url: string; statementTimeoutMs: number };
  redis: { url: string; prefix: string };
  twitch: {
    clientId: string | undefined;
    clientSecret: string | undefined;
    eventSubSecret: string;
    authUrl: string;
    apiUrl: string;
  };
  session: { secret: string };
  webhook: { bodyLimit: number };
  events: { retentionMonths: number; dedupeWindowSeconds: number };
  workers: { processorConcurrency: number; emitterConcurrency: number; lockMs: number };
  subscriptions: { idleMs: number; reconcileIntervalMs: number };
  rateLimits: { windowSeconds: number; authMax: number; apiMax: number };
  realtime: { maxConnectionsPerUser: number; maxWatchesPerConnection: number };
  shutdownTimeoutMs: number;
  /** Twitch logins (lowercase) allowed into the queue dashboard; none when empty. */
  operatorLogins: ReadonlySet<string>;
  /** Bearer token for `/metrics` on every process; metrics are off without one. */
  metricsToken: string | undefined;
  /** How long `web` keeps serving after SIGTERM while load balancers stop sending it traffic. */
  webDrainMs: number;
  /** What one viewer may cost: favourite changes per rate-limit window, new streamers per day. */
  favorites: { changeMax: number; newStreamersPerDay: number };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

/** Parses the environment once; throws a ConfigError naming every bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  // An empty variable means "unset", as in most .env tooling.
  const env = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(env);
  const problems: string[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  if (!parsed.success) throw new ConfigError(problems);

  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (production) {
    for (const key of [
      'DATABASE_URL',
      'TWITCH_CLIENT_ID',
      'TWITCH_CLIENT_SECRET',
      'SESSION_SECRET',
    ] as const) {
      if (!e[key]) problems.push(`${key}: is required when NODE_ENV=production`);
    }
  }
  if (e.WEB_DRAIN_MS >= e.SHUTDOWN_TIMEOUT_MS) {
    problems.push(
      `WEB_DRAIN_MS: must be shorter than SHUTDOWN_TIMEOUT_MS (${e.SHUTDOWN_TIMEOUT_MS}), or shutdown is cut off while draining`,
    );
  }
  if (problems.length) throw new ConfigError(problems);

  const publicUrl = withoutTrailingSlash(e.PUBLIC_URL ?? `http://localhost:${e.PORT}`);
  return Object.freeze({
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    http: {
      port: e.PORT,
      healthPort: e.HEALTH_PORT,
      publicUrl,
      realtimeUrl: withoutTrailingSlash(e.REALTIME_URL ?? publicUrl),
    },
    db: {
      url: e.DATABASE_URL ?? DEV_DATABASE_URL,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    twitch: {
      clientId: e.TWITCH_CLIENT_ID,
      clientSecret: e.TWITCH_CLIENT_SECRET,
      eventSubSecret: e.TWITCH_EVENTSUB_SECRET,
      authUrl: withoutTrailingSlash(e.TWITCH_AUTH_URL),
      apiUrl: withoutTrailingSlash(e.TWITCH_API_URL),
    },
    session: { secret: e.SESSION_SECRET ?? DEV_SESSION_SECRET },
    webhook: { bodyLimit: e.WEBHOOK_BODY_LIMIT },
    events: {
      retentionMonths: e.EVENT_RETENTION_MONTHS,
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
    operatorLogins: new Set(e.OPERATOR_LOGINS ?? []),
    favorites: {
      changeMax: e.RATE_LIMIT_FAVORITE_MAX,
      newStreamersPerDay: e.FAVORITE_NEW_STREAMERS_PER_DAY,
    },
  });
}

/** For entry points: the config, or one line per problem on stderr and exit 1. */
export function loadConfigOrExit(): Readonly<Config> {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`streamfeed: cannot start, ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
