import assert from 'node:assert/strict';
import { parseRfc3339, rfc3339ToIso } from '../../src/shared/twitch/rfc3339.js';
import { normalizeEvent } from '../../src/shared/events/normalize.js';

describe('RFC 3339 parser (intake and processor alike)', () => {
  it('reads every RFC 3339 date-time, years 0000-9999 as written', () => {
    const cases: Array<[string, string]> = [
      ['2026-11-23T05:00:00Z', '2026-11-23T05:00:00.000Z'],
      ['2026-11-23T05:00:00.123456789Z', '2026-11-23T05:00:00.123Z'],
      ['2026-11-23t05:00:00.5z', '2026-11-23T05:00:00.500Z'],
      ['2026-11-23 06:00:00+01:00', '2026-11-23T05:00:00.000Z'],
      ['2026-11-23T04:30:00-00:30', '2026-11-23T05:00:00.000Z'],
      ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
      ['0099-06-15T12:00:00Z', '0099-06-15T12:00:00.000Z'],
      ['0000-01-01T00:00:00Z', '0000-01-01T00:00:00.000Z'],
      ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
      ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
      ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
      // A leap second is the last millisecond of its minute: JavaScript time has none.
      ['2016-12-31T23:59:60Z', '2016-12-31T23:59:59.999Z'],
      ['2026-11-23T05:00:00+23:59', '2026-11-22T05:01:00.000Z'],
    ];
    for (const [input, iso] of cases) assert.equal(rfc3339ToIso(input), iso, input);
    assert.equal(parseRfc3339('1970-01-01T00:00:01Z'), 1000);
  });

  it('refuses what is not RFC 3339, whatever Date.parse makes of it', () => {
    for (const input of [
      'Mon, 23 Nov 2026 05:00:00 GMT', // RFC 1123
      '2026-11-23T05:00:00', // no zone: Date.parse reads the server's own
      '2026-11-23T05:00Z',
      '2026-11-23',
      '1',
      '+002026-11-23T05:00:00Z',
      '2026-11-23T05:00:00+0100',
      '2026-11-23T05:00:00+01',
      '2026-11-23T05:00:00.Z',
      '2026-13-01T00:00:00Z',
      '2026-00-01T00:00:00Z',
      '2026-02-29T00:00:00Z',
      '1900-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-11-00T00:00:00Z',
      '2026-11-23T24:00:00Z',
      '2026-11-23T05:60:00Z',
      '2026-11-23T05:00:61Z',
      '2026-11-23T05:00:00+24:00',
      '2026-11-23T05:00:00+01:60',
      ' 2026-11-23T05:00:00Z',
      '2026-11-23T05:00:00Z\n',
      '',
    ]) {
      assert.equal(parseRfc3339(input), null, JSON.stringify(input));
    }
    for (const input of [undefined, null, 1594836971, {}]) assert.equal(parseRfc3339(input), null);
  });

  it('decides the event times of payloads too', () => {
    const subscription = { type: 'channel.follow', version: '2', condition: {} };
    const event = (followedAt: string) => ({
      broadcaster_user_id: '1337',
      broadcaster_user_login: 'cool_user',
      broadcaster_user_name: 'Cool_User',
      user_id: '1234',
      user_login: 'fan',
      user_name: 'Fan',
      followed_at: followedAt,
    });
    const at = '2026-11-23T05:00:00.000Z';
    const occurred = (t: string) => normalizeEvent(subscription, event(t), at).occurredAt;
    assert.equal(occurred('0001-02-03T04:05:06Z'), '0001-02-03T04:05:06.000Z');
    // Not times, so the message timestamp dates the event.
    assert.equal(occurred('2026-02-30T00:00:00Z'), at);
    assert.equal(occurred('2026-11-23T01:00:00'), at);
    // A message timestamp that is not RFC 3339 leaves such an event without a time.
    assert.throws(
      () => normalizeEvent(subscription, event('never'), 'Mon, 23 Nov 2026 05:00:00 GMT'),
      /no usable time/,
    );
  });
});
