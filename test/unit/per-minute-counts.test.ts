import assert from 'node:assert/strict';
import { perMinuteCounts, PER_MINUTE_BUCKETS } from '../../src/api/routes/per-minute.route.js';
import { parseKinds } from '../../src/api/routes/kinds-param.js';

describe('per-minute counts and the kinds parameter', () => {
  it('puts each row in its minute and kind, types in no kind in other, and drops rows outside', () => {
    const from = new Date('2026-12-02T03:00:00Z');
    const at = (minutes: number) => new Date(from.getTime() + minutes * 60_000);
    const { counts, from: start } = perMinuteCounts(from, [
      { minute: at(0), type: 'channel.follow', count: 2 },
      { minute: at(0), type: 'channel.raid', count: 1 },
      { minute: at(59), type: 'channel.follow', count: 5 },
      { minute: at(59), type: 'stream.online', count: 1 },
      { minute: at(59), type: 'channel.update', count: 1 },
      { minute: at(3), type: 'channel.ban', count: 4 },
      { minute: at(60), type: 'channel.follow', count: 100 },
      { minute: at(-1), type: 'channel.follow', count: 100 },
    ]);
    assert.equal(start, '2026-12-02T03:00:00.000Z');
    assert.equal(counts.follows.length, PER_MINUTE_BUCKETS);
    assert.equal(counts.follows[0], 2);
    assert.equal(counts.follows[59], 5);
    assert.equal(
      counts.follows.reduce((a, b) => a + b, 0),
      7,
      'the minutes outside the hour are not counted',
    );
    assert.equal(counts.raids[0], 1);
    assert.equal(counts.stream[59], 2);
    assert.equal(counts.other[3], 4);
  });

  it('reads kinds as a comma-separated list, each once', () => {
    assert.equal(parseKinds(undefined), undefined);
    assert.deepEqual(parseKinds(''), []);
    assert.deepEqual(parseKinds('raids,follows'), ['raids', 'follows']);
    assert.throws(() => parseKinds('raids,'), { code: 'unknown_kind', message: /"" is not/ });
    assert.throws(() => parseKinds('Raids'), { code: 'unknown_kind' });
    assert.throws(() => parseKinds('raids,raids'), { code: 'bad_request' });
    assert.throws(() => parseKinds(['raids', 'follows']), { message: /given once/ });
  });
});
