import assert from 'node:assert/strict';
import {
  callbackBodyProblem,
  jsonDepth,
  verificationChallenge,
} from '../../src/api/webhooks/callback-body.js';

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

describe('verification challenge', () => {
  it('takes the challenge of a verification body', () => {
    assert.deepEqual(verificationChallenge('{"challenge":"pogchamp-kappa-360noscope","x":1}'), {
      challenge: 'pogchamp-kappa-360noscope',
    });
  });

  it('says what is wrong with a body that is JSON but not an object, or has no challenge', () => {
    const problem = (body: string) => (verificationChallenge(body) as { problem?: string }).problem;
    assert.equal(problem('null'), 'Verification body is null, not a JSON object');
    assert.equal(problem('[1]'), 'Verification body is an array, not a JSON object');
    assert.equal(problem('42'), 'Verification body is a number, not a JSON object');
    assert.equal(problem('"x"'), 'Verification body is a string, not a JSON object');
    assert.equal(problem('{"challenge":""}'), 'Verification body has no challenge');
    assert.equal(problem('{"challenge":7}'), 'Verification body has no challenge');
    assert.equal(problem('{}'), 'Verification body has no challenge');
    assert.equal(problem('{"challenge":'), 'Verification body is not JSON');
  });
});
