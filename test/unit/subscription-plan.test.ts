import assert from 'node:assert/strict';
import {
  plannedSubscriptions,
  STREAMER_MODE_SCOPES,
  subscriptionKey,
} from '../../src/shared/twitch/subscription-plan.js';

describe('subscription plan', () => {
  it('asks for what needs no consent when the streamer granted nothing', () => {
    const plan = plannedSubscriptions('42', []);
    assert.deepEqual(
      plan.map((s) => `${s.type}@${s.version}:${JSON.stringify(s.condition)}`),
      [
        'stream.online@1:{"broadcaster_user_id":"42"}',
        'stream.offline@1:{"broadcaster_user_id":"42"}',
        'channel.update@2:{"broadcaster_user_id":"42"}',
        'channel.raid@1:{"to_broadcaster_user_id":"42"}',
        'channel.raid@1:{"from_broadcaster_user_id":"42"}',
      ],
    );
  });

  it('adds every type the streamer-mode scopes unlock, follow with the streamer as moderator', () => {
    const plan = plannedSubscriptions('42', STREAMER_MODE_SCOPES);
    assert.equal(plan.length, 5 + 16);
    assert.deepEqual(
      plan.find((s) => s.type === 'channel.follow'),
      {
        type: 'channel.follow',
        version: '2',
        condition: { broadcaster_user_id: '42', moderator_user_id: '42' },
      },
    );
    assert.ok(
      plan.filter((s) => s.type.startsWith('channel.hype_train.')).every((s) => s.version === '2'),
    );
    assert.equal(new Set(plan.map(subscriptionKey)).size, plan.length, 'no subscription twice');
  });

  it('unlocks a type with any one of its accepted scopes', () => {
    const types = plannedSubscriptions('42', ['channel:manage:polls']).map((s) => s.type);
    assert.deepEqual(
      types.filter((t) => t.startsWith('channel.poll.')),
      ['channel.poll.begin', 'channel.poll.progress', 'channel.poll.end'],
    );
  });

  it('keys a subscription the same whatever the order of its condition', () => {
    const a = {
      type: 'channel.follow',
      version: '2',
      condition: { broadcaster_user_id: '1', moderator_user_id: '1' },
    };
    const b = {
      type: 'channel.follow',
      version: '2',
      condition: { moderator_user_id: '1', broadcaster_user_id: '1' },
    };
    assert.equal(subscriptionKey(a), subscriptionKey(b));
  });
});
