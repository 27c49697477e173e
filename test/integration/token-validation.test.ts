import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createUserTokens } from '../../src/shared/auth/user-tokens.js';
import { validateUserTokens } from '../../src/shared/auth/token-validation.js';
import { deleteKeys, TEST_REDIS_URL } from '../helpers/redis.js';
import { SIM_CLIENT, startSimulator, type RunningSimulator } from '../helpers/simulator.js';

describe('hourly validation of viewers’ Twitch tokens', () => {
  let sim: RunningSimulator;
  let redis: Redis;
  let prefix: string;

  beforeEach(async () => {
    sim = await startSimulator();
    redis = new Redis(TEST_REDIS_URL);
    prefix = `t${randomBytes(5).toString('hex')}`;
  });
  afterEach(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await sim.close();
  });

  it('keeps valid tokens, refreshes expired ones, and ends the sessions of revoked ones', async () => {
    const tokens = createUserTokens(redis, prefix);
    const [valid, expired, revoked] = ['valid_user', 'expired_user', 'revoked_user'].map((login) =>
      sim.state.addUser(login),
    );
    const issue = (userId: string) => sim.state.issueUserToken(SIM_CLIENT.clientId, userId, []);
    const validToken = issue(valid!.id);
    const expiredToken = issue(expired!.id);
    const revokedToken = issue(revoked!.id);
    expiredToken.expiresAt = Date.now() - 1000;
    await tokens.remember(
      valid!.id,
      { accessToken: validToken.accessToken, refreshToken: validToken.refreshToken },
      'sid-valid',
    );
    await tokens.remember(
      expired!.id,
      { accessToken: expiredToken.accessToken, refreshToken: expiredToken.refreshToken },
      'sid-expired',
    );
    await tokens.remember(
      revoked!.id,
      { accessToken: revokedToken.accessToken, refreshToken: null },
      'sid-revoked',
    );
    sim.state.revokeToken(revokedToken.accessToken);
    for (const sid of ['sid-valid', 'sid-expired', 'sid-revoked']) {
      await redis.set(`${prefix}:sess:${sid}`, '{}');
    }

    const result = await validateUserTokens({
      tokens,
      redis,
      prefix,
      authUrl: `${sim.url}/oauth2`,
      ...SIM_CLIENT,
      log: pino({ level: 'silent' }),
    });
    assert.deepEqual(result, { valid: 1, refreshed: 1, ended: 1 });
    assert.equal(await redis.exists(`${prefix}:sess:sid-valid`), 1);
    assert.equal(await redis.exists(`${prefix}:sess:sid-expired`), 1);
    assert.equal(
      await redis.exists(`${prefix}:sess:sid-revoked`),
      0,
      'the revoked token’s session is gone',
    );
    assert.notEqual((await tokens.get(expired!.id))!.accessToken, expiredToken.accessToken);
    assert.equal(await tokens.get(revoked!.id), null);
  });
});
