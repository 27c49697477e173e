import assert from 'node:assert/strict';
import { sanitizeText } from '../../src/shared/events/sanitize.js';

describe('sanitizeText', () => {
  it('replaces NUL and unpaired surrogates at any depth and keeps everything else', () => {
    const input = {
      summary: 'a\u0000b',
      data: { list: ['\ud800x', 'ok 🎉'], n: 3, none: null },
      'k\u0000': true,
    };
    assert.deepEqual(sanitizeText(input), {
      summary: 'a\uFFFDb',
      data: { list: ['\uFFFDx', 'ok 🎉'], n: 3, none: null },
      'k\uFFFD': true,
    });
  });
});
