import assert from 'node:assert/strict';
import express from 'express';
import {
  ConfigError,
  ROLE_NEEDS,
  loadConfig as loadConfigFor,
  type ProcessRole,
} from '../../src/shared/config.js';

const SESSION_SECRET = 'a-session-secret-of-32-characters-or-more';
const base = { TWITCH_EVENTSUB_SECRET: 'a-valid-secret-123', SESSION_SECRET };
const loadConfig = (env: Record<string, string>) => loadConfigFor('web', env);
const ROLES = Object.keys(ROLE_NEEDS) as ProcessRole[];

function problemsOf(env: Record<string, string>, role: ProcessRole = 'web'): string[] {
  try {
    loadConfigFor(role, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('config', () => {
  it('applies the contract defaults', () => {
    const config = loadConfig(base);
    assert.equal(config.http.port, 3000);
    assert.equal(config.http.publicUrl, 'http://localhost:3000');
    assert.equal(config.http.realtimeUrl, 'http://localhost:3000');
    assert.equal(config.redis.url, 'redis://127.0.0.1:6379');
    assert.equal(config.twitch.authUrl, 'https://id.twitch.tv/oauth2');
    assert.equal(config.twitch.apiUrl, 'https://api.twitch.tv/helix');
    assert.deepEqual(
      { ...config.events, dedupeWindowSeconds: undefined },
      {
        partitionInterval: 'month',
        retention: 6,
        partitionsAhead: 3,
        archiveDir: undefined,
        dedupeWindowSeconds: undefined,
      },
    );
    assert.ok(Object.isFrozen(config));
  });

  it('derives PUBLIC_URL from PORT and REALTIME_URL from PUBLIC_URL, without trailing slashes', () => {
    assert.equal(loadConfig({ ...base, PORT: '8080' }).http.publicUrl, 'http://localhost:8080');
    const config = loadConfig({ ...base, PUBLIC_URL: 'https://feed.example.com/' });
    assert.equal(config.http.publicUrl, 'https://feed.example.com');
    assert.equal(config.http.realtimeUrl, 'https://feed.example.com');
  });

  it('names every bad variable, one line each', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      REDIS_URL: 'http://127.0.0.1:6379',
      DATABASE_URL: 'mysql://x',
      TWITCH_EVENTSUB_SECRET: 'short',
      EVENT_RETENTION_MONTHS: '0',
    });
    for (const key of [
      'PORT',
      'REDIS_URL',
      'DATABASE_URL',
      'TWITCH_EVENTSUB_SECRET',
      'EVENT_RETENTION_MONTHS',
    ]) {
      assert.equal(
        problems.filter((p) => p.startsWith(`${key}:`)).length,
        1,
        `${key} in ${problems.join(' | ')}`,
      );
    }
  });

  it('requires the EventSub secret, 10-100 ASCII characters', () => {
    assert.match(problemsOf({ SESSION_SECRET }).join(), /TWITCH_EVENTSUB_SECRET: is required/);
    assert.match(problemsOf({ TWITCH_EVENTSUB_SECRET: 'x'.repeat(101) }).join(), /10-100/);
    assert.match(problemsOf({ TWITCH_EVENTSUB_SECRET: 'ünïcödé-secret' }).join(), /ASCII/);
    assert.equal(
      loadConfig({ SESSION_SECRET, TWITCH_EVENTSUB_SECRET: 'x'.repeat(100) }).twitch.eventSubSecret
        .length,
      100,
    );
  });

  it('requires the real credentials in production', () => {
    const problems = problemsOf({
      TWITCH_EVENTSUB_SECRET: base.TWITCH_EVENTSUB_SECRET,
      NODE_ENV: 'production',
    });
    for (const key of [
      'DATABASE_URL',
      'TWITCH_CLIENT_ID',
      'TWITCH_CLIENT_SECRET',
      'SESSION_SECRET',
    ]) {
      assert.ok(
        problems.some((p) => p.startsWith(`${key}:`)),
        key,
      );
    }
  });

  it('refuses a web drain that the shutdown timeout would cut off', () => {
    assert.equal(loadConfig({ ...base, WEB_DRAIN_MS: '5000' }).webDrainMs, 5000);
    assert.deepEqual(problemsOf({ ...base, WEB_DRAIN_MS: '25000' }), [
      'WEB_DRAIN_MS: must be shorter than SHUTDOWN_TIMEOUT_MS (25000), or shutdown is cut off while draining',
    ]);
  });

  it('takes a metrics token of 16 or more printable characters only', () => {
    assert.equal(loadConfig(base).metricsToken, undefined);
    assert.equal(
      loadConfig({ ...base, METRICS_TOKEN: 'sixteen-chars-ok' }).metricsToken,
      'sixteen-chars-ok',
    );
    assert.deepEqual(problemsOf({ ...base, METRICS_TOKEN: 'short' }), [
      'METRICS_TOKEN: must be at least 16 characters',
    ]);
    assert.deepEqual(problemsOf({ ...base, METRICS_TOKEN: 'has a space in it ok' }), [
      'METRICS_TOKEN: must be printable ASCII without spaces',
    ]);
  });

  it('reads the operators as lowercase Twitch logins', () => {
    assert.deepEqual([...loadConfig(base).operators.logins], []);
    assert.deepEqual(
      [...loadConfig({ ...base, OPERATOR_LOGINS: 'Night_Ops, day_ops' }).operators.logins],
      ['night_ops', 'day_ops'],
    );
    assert.deepEqual(problemsOf({ ...base, OPERATOR_LOGINS: 'ops,not a login' }), [
      'OPERATOR_LOGINS.1: must be Twitch logins separated by commas',
    ]);
  });

  it('reads the operators as Twitch user ids, which no rename or reclaimed login changes', () => {
    assert.deepEqual([...loadConfig(base).operators.userIds], []);
    assert.deepEqual(
      [...loadConfig({ ...base, OPERATOR_USER_IDS: '141981764, 12826' }).operators.userIds],
      ['141981764', '12826'],
    );
    assert.deepEqual(problemsOf({ ...base, OPERATOR_USER_IDS: '141981764,night_ops' }), [
      'OPERATOR_USER_IDS.1: must be Twitch user ids separated by commas',
    ]);
  });

  it('reads the partition interval, its retention, and EVENT_RETENTION_MONTHS as the old name for months', () => {
    const weekly = loadConfig({ ...base, EVENT_PARTITION_INTERVAL: 'week' }).events;
    assert.deepEqual([weekly.retention, weekly.partitionsAhead], [26, 4]);
    const daily = loadConfig({
      ...base,
      EVENT_PARTITION_INTERVAL: 'day',
      EVENT_RETENTION: '90',
      EVENT_PARTITIONS_AHEAD: '14',
      EVENT_ARCHIVE_DIR: '/mnt/archive',
    }).events;
    assert.deepEqual(
      [daily.partitionInterval, daily.retention, daily.partitionsAhead, daily.archiveDir],
      ['day', 90, 14, '/mnt/archive'],
    );
    assert.equal(loadConfig({ ...base, EVENT_RETENTION_MONTHS: '12' }).events.retention, 12);
    assert.deepEqual(problemsOf({ ...base, EVENT_PARTITION_INTERVAL: 'hour' }), [
      'EVENT_PARTITION_INTERVAL: must be one of month, week, day',
    ]);
    assert.deepEqual(
      problemsOf({ ...base, EVENT_PARTITION_INTERVAL: 'week', EVENT_RETENTION_MONTHS: '6' }),
      [
        'EVENT_RETENTION_MONTHS: counts months, but EVENT_PARTITION_INTERVAL is week; set EVENT_RETENTION (weeks) instead',
      ],
    );
    assert.deepEqual(problemsOf({ ...base, EVENT_RETENTION: '6', EVENT_RETENTION_MONTHS: '6' }), [
      'EVENT_RETENTION_MONTHS: is replaced by EVENT_RETENTION; set only EVENT_RETENTION',
    ]);
    assert.deepEqual(problemsOf({ ...base, EVENT_RETENTION: '121' }), [
      'EVENT_RETENTION: must be at most 120 with EVENT_PARTITION_INTERVAL=month',
    ]);
    assert.deepEqual(problemsOf({ ...base, EVENT_ARCHIVE_DIR: 'archive' }), [
      'EVENT_ARCHIVE_DIR: must be an absolute path (a folder, or a mounted bucket)',
    ]);
  });

  it('treats an empty variable as unset', () => {
    assert.equal(loadConfig({ ...base, PORT: '' }).http.port, 3000);
  });

  describe('numbers', () => {
    const INTEGERS = [
      'PORT',
      'HEALTH_PORT',
      'WEBHOOK_BODY_LIMIT',
      'EVENT_RETENTION_MONTHS',
      'EVENT_RETENTION',
      'EVENT_PARTITIONS_AHEAD',
      'DEDUPE_WINDOW_SECONDS',
      'PROCESSOR_CONCURRENCY',
      'EMITTER_CONCURRENCY',
      'RECONCILE_INTERVAL_MINUTES',
      'RATE_LIMIT_WINDOW_SECONDS',
      'RATE_LIMIT_AUTH_MAX',
      'RATE_LIMIT_API_MAX',
      'REALTIME_MAX_CONNECTIONS_PER_USER',
      'REALTIME_MAX_WATCHES_PER_CONNECTION',
      'JOB_LOCK_MS',
      'SHUTDOWN_TIMEOUT_MS',
      'DATABASE_STATEMENT_TIMEOUT_MS',
      'WEB_DRAIN_MS',
    ];

    it('refuses a port of blanks (a random port) or in hex, octal, exponent or with a sign', () => {
      for (const key of ['PORT', 'HEALTH_PORT']) {
        for (const value of [' ', '0x0FA3', '0o7643', '4e3', '+4003', ' 4003', '4003.0', '0']) {
          assert.deepEqual(
            problemsOf({ ...base, [key]: value }),
            [`${key}: must be a whole number from 1 to 65535, in decimal digits`],
            `${key}=${JSON.stringify(value)}`,
          );
        }
        assert.equal(problemsOf({ ...base, [key]: '65536' }).length, 1);
      }
      assert.equal(loadConfig({ ...base, PORT: '4003' }).http.port, 4003);
      assert.equal(loadConfig({ ...base, HEALTH_PORT: '04003' }).http.healthPort, 4003);
    });

    it('reads every whole-number variable in decimal digits only', () => {
      for (const key of INTEGERS) {
        for (const value of [' ', '0x10', '1e3', '-1', '12.5', '12 ']) {
          const problems = problemsOf({ ...base, [key]: value });
          assert.equal(problems.length, 1, `${key}=${JSON.stringify(value)}: ${problems.join()}`);
          assert.match(
            problems[0]!,
            new RegExp(`^${key}: must be a whole number from .* in decimal digits$`),
          );
        }
      }
      const config = loadConfig({ ...base, JOB_LOCK_MS: '5000', RATE_LIMIT_API_MAX: '0600' });
      assert.equal(config.workers.lockMs, 5000);
      assert.equal(config.rateLimits.apiMax, 600);
    });

    it('takes SUBSCRIPTION_IDLE_HOURS as a decimal number, fractions allowed', () => {
      assert.equal(
        loadConfig({ ...base, SUBSCRIPTION_IDLE_HOURS: '0.5' }).subscriptions.idleMs,
        1_800_000,
      );
      for (const value of [' ', '0x1', '1e1', '.5']) {
        assert.equal(problemsOf({ ...base, SUBSCRIPTION_IDLE_HOURS: value }).length, 1, value);
      }
    });
  });

  describe('what each process type needs', () => {
    const needsOf = (role: ProcessRole, env: Record<string, string>) =>
      problemsOf(env, role).map((problem) => problem.split(':')[0]);

    it('asks each process type only for the secrets it uses', () => {
      const expected: Record<ProcessRole, string[]> = {
        web: ['TWITCH_EVENTSUB_SECRET', 'SESSION_SECRET'],
        realtime: ['SESSION_SECRET'],
        processor: ['TWITCH_EVENTSUB_SECRET'],
        emitter: [],
        release: [],
        jobs: [],
      };
      for (const role of ROLES) {
        if (expected[role].length) assert.deepEqual(needsOf(role, {}), expected[role], role);
        else assert.equal(loadConfigFor(role, {}).redis.prefix, 'sf', role);
      }
    });

    it('in production, asks for the database and the Twitch app only where they are used', () => {
      const production = { ...base, NODE_ENV: 'production' };
      const expected: Record<ProcessRole, string[]> = {
        web: ['DATABASE_URL', 'TWITCH_CLIENT_ID', 'TWITCH_CLIENT_SECRET'],
        realtime: [],
        processor: ['DATABASE_URL', 'TWITCH_CLIENT_ID', 'TWITCH_CLIENT_SECRET'],
        emitter: [],
        release: ['DATABASE_URL'],
        jobs: [],
      };
      for (const role of ROLES) {
        if (expected[role].length) {
          assert.deepEqual(needsOf(role, production), expected[role], role);
        } else assert.equal(loadConfigFor(role, production).env, 'production', role);
      }
    });

    it('names the missing ones along with the bad ones, in one error', () => {
      assert.deepEqual(needsOf('realtime', { PORT: '0x0FA3' }), ['PORT', 'SESSION_SECRET']);
    });

    it('still refuses a bad value of a variable the role does not need', () => {
      assert.deepEqual(problemsOf({ TWITCH_EVENTSUB_SECRET: 'short' }, 'release'), [
        'TWITCH_EVENTSUB_SECRET: must be 10-100 ASCII characters',
      ]);
    });
  });

  describe('SESSION_SECRET', () => {
    it('is required by web and realtime whatever NODE_ENV is: no default anyone could sign with', () => {
      for (const role of ['web', 'realtime'] as const) {
        for (const NODE_ENV of [undefined, 'development', 'test', 'production']) {
          const env = {
            TWITCH_EVENTSUB_SECRET: base.TWITCH_EVENTSUB_SECRET,
            ...(NODE_ENV && { NODE_ENV }),
          };
          assert.ok(
            problemsOf(env, role).some((p) => p.startsWith('SESSION_SECRET: is required')),
            `${role} with NODE_ENV=${NODE_ENV}`,
          );
        }
        assert.equal(loadConfigFor(role, base).session.secret, SESSION_SECRET);
      }
    });

    it('refuses the public dev value of earlier versions, and anything under 32 characters', () => {
      assert.deepEqual(
        problemsOf({ ...base, SESSION_SECRET: 'streamfeed-dev-session-secret-not-for-production' }),
        ['SESSION_SECRET: is a public value; make your own'],
      );
      assert.deepEqual(problemsOf({ ...base, SESSION_SECRET: 'x'.repeat(31) }), [
        'SESSION_SECRET: must be at least 32 characters',
      ]);
    });
  });

  describe('TRUST_PROXY', () => {
    it('believes no X-Forwarded-For by default', () => {
      assert.equal(loadConfig(base).http.trustProxy, 0);
    });

    it('takes a hop count or proxy addresses and subnets, in forms Express accepts', () => {
      const accepted: Array<[string, number | string[]]> = [
        ['1', 1],
        ['0', 0],
        ['10.0.0.0/8', ['10.0.0.0/8']],
        ['10.0.0.5, 172.16.0.0/12,loopback', ['10.0.0.5', '172.16.0.0/12', 'loopback']],
        ['fd00::/8, ::1, uniquelocal, linklocal', ['fd00::/8', '::1', 'uniquelocal', 'linklocal']],
      ];
      for (const [value, expected] of accepted) {
        const trustProxy = loadConfig({ ...base, TRUST_PROXY: value }).http.trustProxy;
        assert.deepEqual(trustProxy, expected, value);
        // Express compiles the setting at once and throws on what it cannot read.
        assert.doesNotThrow(() => express().set('trust proxy', trustProxy), value);
      }
    });

    it('refuses anything else, "true" (any client could name any address) included', () => {
      for (const value of [
        'true',
        'false',
        '11',
        '-1',
        '0x1',
        'nginx',
        '10.0.0.0/33',
        '10.0.0',
        '1,2',
        '::1/129',
        ' ',
      ]) {
        const problems = problemsOf({ ...base, TRUST_PROXY: value });
        assert.equal(problems.length, 1, value);
        assert.match(
          problems[0]!,
          /^TRUST_PROXY: must be a hop count from 0 to 10 .* or proxy addresses and subnets/,
        );
      }
    });
  });

  describe('Redis Cluster and queue shards', () => {
    it('reads REDIS_CLUSTER_NODES as seed nodes, IPv6 in brackets, with TLS and credentials', () => {
      const config = loadConfig({
        ...base,
        REDIS_CLUSTER_NODES: 'clustercfg.sf.cache.amazonaws.com:6379, [::1]:7001',
        REDIS_TLS: 'true',
        REDIS_PASSWORD: 'an-auth-token',
      });
      assert.deepEqual(config.redis.cluster, {
        nodes: [
          { host: 'clustercfg.sf.cache.amazonaws.com', port: 6379 },
          { host: '::1', port: 7001 },
        ],
        tls: true,
        password: 'an-auth-token',
      });
      assert.equal(config.redis.queueShards, 3, 'the cluster default');
      assert.deepEqual(config.redis.workerShards, [0, 1, 2]);
      const single = loadConfig(base).redis;
      assert.equal(single.cluster, undefined);
      assert.equal(single.queueShards, 1, 'one queue per kind on a single Redis');
    });

    it('names a seed node that is not host:port', () => {
      for (const nodes of ['10.0.0.1', '10.0.0.1:0', '10.0.0.1:6379,', 'redis://10.0.0.1:6379']) {
        const [problem] = problemsOf({ ...base, REDIS_CLUSTER_NODES: nodes });
        assert.match(
          problem!,
          /^REDIS_CLUSTER_NODES: ".*" is not host:port \(seed nodes separated by commas/,
        );
      }
    });

    it('refuses TLS or credentials without a cluster, pointing to REDIS_URL', () => {
      assert.deepEqual(problemsOf({ ...base, REDIS_PASSWORD: 'x', REDIS_TLS: 'false' }), [
        'REDIS_TLS: applies to REDIS_CLUSTER_NODES only; for one Redis put it in REDIS_URL (rediss://user:password@host:port)',
        'REDIS_PASSWORD: applies to REDIS_CLUSTER_NODES only; for one Redis put it in REDIS_URL (rediss://user:password@host:port)',
      ]);
      assert.deepEqual(problemsOf({ ...base, REDIS_CLUSTER_NODES: 'a:1', REDIS_TLS: 'yes' }), [
        'REDIS_TLS: must be true or false',
      ]);
    });

    it('reads WORKER_SHARDS as shards and ranges within QUEUE_SHARDS', () => {
      const config = loadConfig({ ...base, QUEUE_SHARDS: '8', WORKER_SHARDS: '5,0-2,2' });
      assert.deepEqual(config.redis.workerShards, [0, 1, 2, 5]);
      assert.deepEqual(problemsOf({ ...base, QUEUE_SHARDS: '4', WORKER_SHARDS: '2-4' }), [
        'WORKER_SHARDS: 2-4 is beyond the 4 shard(s) of QUEUE_SHARDS (0-3)',
      ]);
      assert.deepEqual(problemsOf({ ...base, QUEUE_SHARDS: '4', WORKER_SHARDS: '3-1' }), [
        'WORKER_SHARDS: 3-1 is a range backwards',
      ]);
      assert.match(
        problemsOf({ ...base, WORKER_SHARDS: 'all' })[0]!,
        /^WORKER_SHARDS: must be shard numbers/,
      );
      assert.match(
        problemsOf({ ...base, QUEUE_SHARDS: '65' })[0]!,
        /^QUEUE_SHARDS: must be a whole number from 1 to 64/,
      );
    });
  });
});
