import assert from 'node:assert/strict';
import { createBackoff } from '../../client/backoff.js';

describe("the event page's retry backoff", () => {
  it('doubles from the minimum up to the maximum, each delay in the upper half of its step', () => {
    const low = createBackoff(1000, 30_000, () => 0);
    const high = createBackoff(1000, 30_000, () => 1);
    const lows = Array.from({ length: 8 }, () => low.next());
    const highs = Array.from({ length: 8 }, () => high.next());
    assert.deepEqual(highs, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    assert.deepEqual(lows, [500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
  });

  it('spreads viewers who retry at the same step, and starts over after a reset', () => {
    const delays = new Set(Array.from({ length: 50 }, () => createBackoff(1000, 30_000).next()));
    assert.ok(delays.size > 25, `50 viewers drew only ${delays.size} distinct first delays`);
    const backoff = createBackoff(1000, 30_000, () => 1);
    for (let i = 0; i < 5; i++) backoff.next();
    backoff.reset();
    assert.equal(backoff.next(), 1000);
  });
});
