import assert from 'node:assert/strict';
import type { RedisClient } from '../../src/shared/connections/redis.js';
import { createEventIdentity, followEventId } from '../../src/shared/events/event-identity.js';

// A follow's identity never needs Redis: anything the fake is asked is a failure.
const noRedis = new Proxy({} as RedisClient, {
  get: () => {
    throw new Error('a follow must not need Redis for its id');
  },
});

describe('the identity of a follow, from EventSub and from Helix', () => {
  const identify = createEventIdentity(noRedis, 'sf', 60);
  const live = {
    user_id: '1234',
    user_login: 'cool_user',
    user_name: 'Cool_User',
    broadcaster_user_id: '1337',
    broadcaster_user_login: 'cooler_user',
    broadcaster_user_name: 'Cooler_User',
    followed_at: '2023-07-15T18:16:11.17106713Z',
  };
  const of = (event: Record<string, unknown>, messageId = 'm1') =>
    identify({ broadcasterId: '1337', type: 'channel.follow', event, messageId });

  it('is the same for the nanosecond EventSub time and the whole-second Helix time', async () => {
    const fromEventSub = await of(live);
    // As the backfill builds it from a Helix follower, the follower having renamed meanwhile.
    const fromHelix = await of(
      {
        ...live,
        user_login: 'renamed_user',
        user_name: 'Renamed_User',
        followed_at: '2023-07-15T18:16:11Z',
      },
      'backfill-1337-x',
    );
    assert.deepEqual(fromEventSub, { id: fromHelix.id, duplicateContent: false });
    assert.equal(fromEventSub.id, followEventId('1337', '1234', '2023-07-15T18:16:11Z'));
  });

  it('differs for another follower, another second (a re-follow) or another channel', async () => {
    const base = (await of(live)).id;
    assert.notEqual((await of({ ...live, user_id: '9' })).id, base);
    assert.notEqual((await of({ ...live, followed_at: '2023-07-15T18:16:12.01Z' })).id, base);
    assert.notEqual(followEventId('42', '1234', live.followed_at), base);
    // An offset is the same instant.
    assert.equal(followEventId('1337', '1234', '2023-07-15T20:16:11.5+02:00'), base);
  });
});
