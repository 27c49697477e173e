import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/shared/config.js';
import { parseTrafficArgs } from '../../src/simulator/traffic/cli.js';

const base = {
  TWITCH_EVENTSUB_SECRET: 'a-valid-secret-123',
  SESSION_SECRET: 'x'.repeat(32),
};

describe('follow-wave and replay settings', () => {
  it('defaults to more than 20 follows in 10 s, and one replay per 10 s', () => {
    const config = loadConfig('processor', base);
    assert.deepEqual(config.followWaves, { threshold: 20, windowMs: 10_000 });
    assert.deepEqual(config.replay, { intervalSeconds: 10 });
    assert.equal(
      loadConfig('web', { ...base, FOLLOW_WAVE_THRESHOLD: '0' }).followWaves.threshold,
      0,
    );
  });

  it('names each bad value in one error', () => {
    try {
      loadConfig('web', {
        ...base,
        FOLLOW_WAVE_THRESHOLD: 'twenty',
        FOLLOW_WAVE_WINDOW_SECONDS: '0',
        REPLAY_INTERVAL_SECONDS: '-1',
      });
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(
        error.problems.map((p) => p.split(':')[0]),
        ['FOLLOW_WAVE_THRESHOLD', 'FOLLOW_WAVE_WINDOW_SECONDS', 'REPLAY_INTERVAL_SECONDS'],
      );
      assert.match(
        error.message,
        /FOLLOW_WAVE_WINDOW_SECONDS: must be a whole number from 1 to 3600/,
      );
    }
  });

  it('lets the traffic generator play a follow-bot raid', () => {
    const command = parseTrafficArgs(
      [
        '--url',
        'http://127.0.0.1:1/webhooks/twitch',
        '--follow-raid',
        '--rate',
        '30',
        '--count',
        '300',
      ],
      { TWITCH_EVENTSUB_SECRET: 'a-valid-secret-123' },
    );
    assert.equal(command.help, false);
    assert.equal(!command.help && command.options.followRaid, true);
  });
});
