import assert from 'node:assert/strict';
import { ConfigError, loadConfig as loadConfigFor } from '../../src/shared/config.js';

const base = {
  TWITCH_EVENTSUB_SECRET: 'a-valid-secret-123',
  SESSION_SECRET: 'a-session-secret-of-32-characters-or-more',
};
// The favourite limits are web's.
const loadConfig = (env: Record<string, string>) => loadConfigFor('web', env);

describe('config: what one viewer may cost', () => {
  it('allows 10 favourite changes per window and 10 new streamers a day by default', () => {
    assert.deepEqual(loadConfig(base).favorites, { changeMax: 10, newStreamersPerDay: 10 });
  });

  it('reads RATE_LIMIT_FAVORITE_MAX and FAVORITE_NEW_STREAMERS_PER_DAY', () => {
    const config = loadConfig({
      ...base,
      RATE_LIMIT_FAVORITE_MAX: '3',
      FAVORITE_NEW_STREAMERS_PER_DAY: '50',
    });
    assert.deepEqual(config.favorites, { changeMax: 3, newStreamersPerDay: 50 });
  });

  it('refuses zero, negative and non-integer limits, naming the variable', () => {
    for (const [key, value] of [
      ['RATE_LIMIT_FAVORITE_MAX', '0'],
      ['RATE_LIMIT_FAVORITE_MAX', '2.5'],
      ['FAVORITE_NEW_STREAMERS_PER_DAY', '-1'],
      ['FAVORITE_NEW_STREAMERS_PER_DAY', 'lots'],
    ] as const) {
      assert.throws(
        () => loadConfig({ ...base, [key]: value }),
        (error: unknown) =>
          error instanceof ConfigError && error.problems.some((p) => p.startsWith(`${key}:`)),
        `${key}=${value}`,
      );
    }
  });
});
