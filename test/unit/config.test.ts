import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/shared/config.js';

const base = { TWITCH_EVENTSUB_SECRET: 'a-valid-secret-123' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
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
    assert.equal(config.events.retentionMonths, 6);
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
    assert.match(problemsOf({}).join(), /TWITCH_EVENTSUB_SECRET/);
    assert.match(problemsOf({ TWITCH_EVENTSUB_SECRET: 'x'.repeat(101) }).join(), /10-100/);
    assert.match(problemsOf({ TWITCH_EVENTSUB_SECRET: 'ünïcödé-secret' }).join(), /ASCII/);
    assert.equal(
      loadConfig({ TWITCH_EVENTSUB_SECRET: 'x'.repeat(100) }).twitch.eventSubSecret.length,
      100,
    );
  });

  it('requires the real credentials in production', () => {
    const problems = problemsOf({ ...base, NODE_ENV: 'production' });
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
    assert.deepEqual([...loadConfig(base).operatorLogins], []);
    assert.deepEqual(
      [...loadConfig({ ...base, OPERATOR_LOGINS: 'Night_Ops, day_ops' }).operatorLogins],
      ['night_ops', 'day_ops'],
    );
    assert.deepEqual(problemsOf({ ...base, OPERATOR_LOGINS: 'ops,not a login' }), [
      'OPERATOR_LOGINS.1: must be Twitch logins separated by commas',
    ]);
  });

  it('treats an empty variable as unset', () => {
    assert.equal(loadConfig({ ...base, PORT: '' }).http.port, 3000);
  });
});
