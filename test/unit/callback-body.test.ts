import assert from 'node:assert/strict';
import { callbackBodyProblem, jsonDepth } from '../../src/api/webhooks/callback-body.js';

describe('callback body check', () => {
  it('measures nesting, ignoring brackets and escaped quotes inside strings', () => {
    assert.equal(jsonDepth('1'), 0);
    assert.equal(jsonDepth('{"a":[1,{"b":2}]}'), 3);
    assert.equal(jsonDepth('{"a":"[[[{{{"}'), 1);
    assert.equal(jsonDepth('{"a":"\\"[[[","b":"\\\\"}'), 1);
    assert.equal(jsonDepth('['.repeat(10_000), 32), 33, 'stops counting past the limit');
  });

  it('accepts the shapes of notifications, batched drops and revocations', () => {
    const subscription = { type: 'channel.follow' };
    const notification = JSON.stringify({ subscription, event: { a: 1 } });
    assert.equal(callbackBodyProblem(notification, 'notification'), null);
    const drops = JSON.stringify({ subscription, events: [{ id: 'x' }] });
    assert.equal(callbackBodyProblem(drops, 'notification'), null);
    assert.equal(callbackBodyProblem(JSON.stringify({ subscription }), 'revocation'), null);
    assert.equal(
      callbackBodyProblem(JSON.stringify({ subscription }), 'notification'),
      'notification has no event',
    );
    assert.match(callbackBodyProblem('{"subscription":', 'notification')!, /^body is not JSON/);
    assert.equal(callbackBodyProblem('null', 'revocation'), 'body is not a JSON object');
  });
});
