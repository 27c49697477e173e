import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Actor, SubscriptionInfo } from '../../src/shared/events/event.js';
import { InvalidEventError, normalizeEvent } from '../../src/shared/events/normalize.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const payloadDir = path.resolve(repoRoot, '..', 'shared', 'twitch', 'payloads');
const WITHOUT_EVENT = new Set(['webhook_callback_verification.json', 'revocation.json']);

interface Payload {
  subscription: SubscriptionInfo;
  event: Record<string, unknown>;
}

const payloads = new Map<string, Payload>(
  readdirSync(payloadDir)
    .filter((file) => file.endsWith('.json') && !WITHOUT_EVENT.has(file))
    .map((file) => [
      file,
      JSON.parse(readFileSync(path.join(payloadDir, file), 'utf8')) as Payload,
    ]),
);

/** A fresh copy of a payload, so a test can change it. */
function payload(file: string): Payload {
  const found = payloads.get(file);
  assert.ok(found, `${file} is in ${payloadDir}`);
  return structuredClone(found);
}

const MESSAGE_TIME = '2026-11-23T05:00:00.123456789Z';
const AT_MESSAGE = '2026-11-23T05:00:00.123Z';
const normalize = (p: Payload, at = MESSAGE_TIME) => normalizeEvent(p.subscription, p.event, at);

const cool: Actor = { id: '1234', login: 'cool_user', name: 'Cool_User' };
const coolerChannel = ['1337', 'cooler_user', 'Cooler_User'];
const coolChannel = ['1337', 'cool_user', 'Cool_User'];
const SOCKS = 'Aren’t shoes just really hard socks?';

interface Expected {
  type: string;
  /** id, login, name */
  broadcaster: string[];
  occurredAt: string;
  actor: Actor | null;
  summary: string;
  /** Some data fields with their whole expected value. */
  data: Record<string, unknown>;
}

const EXPECTED: Record<string, Omit<Expected, 'type'>> = {
  'channel.ban.json': {
    broadcaster: coolerChannel,
    occurredAt: '2020-07-15T18:15:11.171Z',
    actor: { id: '1339', login: 'mod_user', name: 'Mod_User' },
    summary: 'Mod_User timed out Cool_User for 1 minute (Offensive language)',
    data: { userLogin: 'cool_user', isPermanent: false, endsAt: '2020-07-15T18:16:11.17106713Z' },
  },
  'channel.channel_points_custom_reward_redemption.add.json': {
    broadcaster: coolChannel,
    occurredAt: '2020-07-15T17:16:03.171Z',
    actor: { id: '9001', login: 'cooler_user', name: 'Cooler_User' },
    summary: 'Cooler_User redeemed title: pogchamp',
    data: {
      userInput: 'pogchamp',
      reward: {
        id: '92af127c-7326-4483-a52b-b0da0be61c01',
        title: 'title',
        cost: 100,
        prompt: 'reward prompt',
      },
    },
  },
  'channel.chat.message.json': {
    broadcaster: ['1971641', 'streamer', 'streamer'],
    occurredAt: AT_MESSAGE,
    actor: { id: '4145994', login: 'viewer32', name: 'viewer32' },
    summary: 'viewer32: Hi chat',
    data: {
      messageId: 'cc106a89-1814-919d-454c-f4f2f970aae7',
      messageType: 'text',
      sourceBadges: null,
    },
  },
  'channel.chat.notification.json': {
    broadcaster: ['1971641', 'streamer', 'streamer'],
    occurredAt: AT_MESSAGE,
    actor: { id: '49912639', login: 'viewer23', name: 'viewer23' },
    summary: "viewer23 subscribed at Tier 1. They've subscribed for 10 months!",
    data: { noticeType: 'resub', sharedChatSub: null, badges: [] },
  },
  'channel.cheer.json': {
    broadcaster: coolerChannel,
    occurredAt: AT_MESSAGE,
    actor: cool,
    summary: 'Cool_User cheered 1000 bits: pogchamp',
    data: { bits: 1000, isAnonymous: false, message: 'pogchamp' },
  },
  'channel.follow.json': {
    broadcaster: coolerChannel,
    occurredAt: '2020-07-15T18:16:11.171Z',
    actor: cool,
    summary: 'Cool_User followed',
    data: { userLogin: 'cool_user', followedAt: '2020-07-15T18:16:11.17106713Z' },
  },
  'channel.hype_train.begin.json': {
    broadcaster: coolChannel,
    occurredAt: '2020-07-15T17:16:03.171Z',
    actor: null,
    summary: 'Hype train level 1 started',
    data: { allTimeHighLevel: 4, sharedTrainParticipants: null, isSharedTrain: false },
  },
  'channel.hype_train.end.json': {
    broadcaster: coolChannel,
    occurredAt: '2020-07-15T17:16:11.171Z',
    actor: null,
    summary: 'Hype train ended at level 1',
    data: { total: 137, cooldownEndsAt: '2020-07-16T17:16:11.17106713Z' },
  },
  'channel.hype_train.progress.json': {
    broadcaster: coolChannel,
    occurredAt: AT_MESSAGE,
    actor: null,
    summary: 'Hype train at level 1 (137/500)',
    data: { progress: 137, goal: 500, type: 'regular' },
  },
  'channel.poll.begin.json': {
    broadcaster: coolChannel,
    occurredAt: '2020-07-15T17:16:03.171Z',
    actor: null,
    summary: `Poll started: ${SOCKS}`,
    data: { title: SOCKS, bitsVoting: { isEnabled: true, amountPerVote: 10 } },
  },
  'channel.poll.end.json': {
    broadcaster: coolChannel,
    occurredAt: '2020-07-15T17:16:11.171Z',
    actor: null,
    summary: `Poll ended: ${SOCKS}, winner: Yellow`,
    data: { status: 'completed', channelPointsVoting: { isEnabled: true, amountPerVote: 10 } },
  },
  'channel.poll.progress.json': {
    broadcaster: coolChannel,
    occurredAt: AT_MESSAGE,
    actor: null,
    summary: `Poll update: ${SOCKS}, leading: No!`,
    data: { id: '1243456', endsAt: '2020-07-15T17:16:08.17106713Z' },
  },
  'channel.prediction.begin.json': {
    broadcaster: coolChannel,
    occurredAt: '2020-07-15T17:16:03.171Z',
    actor: null,
    summary: `Prediction started: ${SOCKS}`,
    data: {
      locksAt: '2020-07-15T17:21:03.17106713Z',
      outcomes: [
        { id: '1243456', title: 'Yeah!', color: 'blue' },
        { id: '2243456', title: 'No!', color: 'pink' },
      ],
    },
  },
  'channel.prediction.end.json': {
    broadcaster: coolChannel,
    occurredAt: '2020-07-15T17:16:11.171Z',
    actor: null,
    summary: `Prediction ended: ${SOCKS}, winner: Yeah!`,
    data: { winningOutcomeId: '12345', status: 'resolved' },
  },
  'channel.prediction.lock.json': {
    broadcaster: coolChannel,
    occurredAt: '2020-07-15T17:21:03.171Z',
    actor: null,
    summary: `Prediction locked: ${SOCKS}`,
    data: { lockedAt: '2020-07-15T17:21:03.17106713Z', startedAt: '2020-07-15T17:16:03.17106713Z' },
  },
  'channel.prediction.progress.json': {
    broadcaster: coolChannel,
    occurredAt: AT_MESSAGE,
    actor: null,
    summary: `Prediction update: ${SOCKS}`,
    data: { title: SOCKS, locksAt: '2020-07-15T17:21:03.17106713Z' },
  },
  'channel.raid.json': {
    broadcaster: coolerChannel,
    occurredAt: AT_MESSAGE,
    actor: cool,
    summary: 'Cool_User raided with 9001 viewers',
    data: { viewers: 9001, fromBroadcasterUserId: '1234', toBroadcasterUserLogin: 'cooler_user' },
  },
  'channel.subscribe.json': {
    broadcaster: coolerChannel,
    occurredAt: AT_MESSAGE,
    actor: cool,
    summary: 'Cool_User subscribed at Tier 1',
    data: { tier: '1000', isGift: false },
  },
  'channel.subscription.end.json': {
    broadcaster: coolerChannel,
    occurredAt: AT_MESSAGE,
    actor: cool,
    summary: "Cool_User's Tier 1 subscription ended",
    data: { tier: '1000', userId: '1234' },
  },
  'channel.subscription.gift.json': {
    broadcaster: coolerChannel,
    occurredAt: AT_MESSAGE,
    actor: cool,
    summary: 'Cool_User gifted 2 Tier 1 subs',
    data: { total: 2, cumulativeTotal: 284, isAnonymous: false },
  },
  'channel.subscription.message.json': {
    broadcaster: coolerChannel,
    occurredAt: AT_MESSAGE,
    actor: cool,
    summary: 'Cool_User resubscribed for 15 months: Love the stream! FevziGG',
    data: { cumulativeMonths: 15, streakMonths: 1, durationMonths: 6 },
  },
  'channel.update.json': {
    broadcaster: coolChannel,
    occurredAt: AT_MESSAGE,
    actor: null,
    summary: 'Cool_User changed the title to "Best Stream Ever" (Grand Theft Auto)',
    data: { categoryId: '12453', contentClassificationLabels: ['MatureGame'] },
  },
  'stream.offline.json': {
    broadcaster: coolChannel,
    occurredAt: AT_MESSAGE,
    actor: null,
    summary: 'Cool_User went offline',
    data: {},
  },
  'stream.online.json': {
    broadcaster: coolChannel,
    occurredAt: '2020-10-11T10:11:12.123Z',
    actor: null,
    summary: 'Cool_User went live',
    data: { id: '9001', type: 'live', startedAt: '2020-10-11T10:11:12.123Z' },
  },
  'user.authorization.grant.json': {
    broadcaster: coolChannel,
    occurredAt: AT_MESSAGE,
    actor: { id: '1337', login: 'cool_user', name: 'Cool_User' },
    summary: 'Cool_User connected streamfeed',
    data: { clientId: 'crq72vsaoijkc83xx42hz6i37', userId: '1337' },
  },
  'user.authorization.revoke.json': {
    broadcaster: coolChannel,
    occurredAt: AT_MESSAGE,
    actor: { id: '1337', login: 'cool_user', name: 'Cool_User' },
    summary: 'Cool_User disconnected streamfeed',
    data: { clientId: 'crq72vsaoijkc83xx42hz6i37', userName: 'Cool_User' },
  },
};

/** Every object key at any depth, with its path. */
function keysDeep(value: unknown, at = 'data'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keysDeep(v, `${at}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [`${at}.${k}`, ...keysDeep(v, `${at}.${k}`)]);
}

describe('normalizeEvent', () => {
  describe('every Twitch example payload', () => {
    it('has an expectation for each payload file, and a file for each expectation', () => {
      assert.deepEqual([...payloads.keys()].sort(), Object.keys(EXPECTED).sort());
    });

    for (const [file, want] of Object.entries(EXPECTED)) {
      it(`normalises ${file}`, () => {
        const p = payload(file);
        const event = normalize(p);
        assert.equal(event.type, file.replace(/\.json$/, ''));
        assert.equal(event.type, p.subscription.type);
        assert.deepEqual(
          [event.broadcasterId, event.broadcasterLogin, event.broadcasterName],
          want.broadcaster,
        );
        assert.equal(event.occurredAt, want.occurredAt);
        assert.deepEqual(event.actor, want.actor);
        assert.equal(event.summary, want.summary);
        for (const [key, value] of Object.entries(want.data)) {
          assert.deepEqual(event.data[key], value, `data.${key}`);
        }
        const kept = Object.keys(p.event).filter((k) => !k.startsWith('broadcaster_user_'));
        assert.equal(Object.keys(event.data).length, kept.length, 'no field is dropped');
        for (const key of keysDeep(event.data)) assert.doesNotMatch(key, /_/, key);
      });
    }
  });

  it('converts keys to camelCase inside nested objects and arrays', () => {
    const resub = normalize(payload('channel.subscription.message.json'));
    assert.deepEqual(resub.data.message, {
      text: 'Love the stream! FevziGG',
      emotes: [{ begin: 23, end: 30, id: '302976485' }],
    });
    const hype = normalize(payload('channel.hype_train.begin.json'));
    assert.deepEqual(hype.data.topContributions, [
      { userId: '123', userLogin: 'pogchamp', userName: 'PogChamp', type: 'bits', total: 50 },
    ]);
    const chat = normalize(payload('channel.chat.message.json'));
    assert.deepEqual((chat.data.badges as unknown[])[2], {
      setId: 'sub-gifter',
      id: '1',
      info: '',
    });
    const notice = normalize(payload('channel.chat.notification.json'));
    assert.deepEqual(notice.data.resub, {
      cumulativeMonths: 10,
      durationMonths: 0,
      streakMonths: null,
      subPlan: '1000',
      isGift: false,
      gifterIsAnonymous: null,
      gifterUserId: null,
      gifterUserName: null,
      gifterUserLogin: null,
    });
    const prediction = normalize(payload('channel.prediction.end.json'));
    const [, no] = prediction.data.outcomes as Array<{ topPredictors: unknown[] }>;
    assert.deepEqual(no?.topPredictors[0], {
      userName: 'Cooler_User',
      userLogin: 'cooler_user',
      userId: 12345,
      channelPointsWon: null,
      channelPointsUsed: 100,
    });
  });

  it('reads a raid from the raiding side when the condition names from_broadcaster_user_id', () => {
    const raid = payload('channel.raid.json');
    raid.subscription.condition = { from_broadcaster_user_id: '1234' };
    const event = normalize(raid);
    assert.deepEqual([event.broadcasterId, event.broadcasterLogin], ['1234', 'cool_user']);
    assert.deepEqual(event.actor, cool);
    assert.equal(event.summary, 'Cool_User raided Cooler_User with 9001 viewers');
    assert.equal(event.data.toBroadcasterUserName, 'Cooler_User');
    assert.equal(event.data.fromBroadcasterUserName, 'Cool_User');

    // twitch-cli's verify-subscription always sends a plain broadcaster_user_id condition.
    raid.subscription.condition = { broadcaster_user_id: '1337' };
    assert.equal(normalize(raid).summary, 'Cool_User raided with 9001 viewers');
    raid.event.viewers = 1;
    assert.equal(normalize(raid).summary, 'Cool_User raided with 1 viewer');
  });

  it('leaves anonymous cheers and gifts without an actor', () => {
    const cheer = payload('channel.cheer.json');
    Object.assign(cheer.event, {
      is_anonymous: true,
      user_id: null,
      user_login: null,
      user_name: null,
    });
    assert.equal(normalize(cheer).actor, null);
    assert.equal(normalize(cheer).summary, 'An anonymous user cheered 1000 bits: pogchamp');
    assert.equal(normalize(cheer).data.userId, null);

    const gift = payload('channel.subscription.gift.json');
    Object.assign(gift.event, {
      is_anonymous: true,
      user_id: null,
      user_login: null,
      user_name: null,
      cumulative_total: null,
    });
    assert.equal(normalize(gift).actor, null);
    assert.equal(normalize(gift).summary, 'An anonymous user gifted 2 Tier 1 subs');
    gift.event.total = 1;
    gift.event.tier = '3000';
    assert.equal(normalize(gift).summary, 'An anonymous user gifted a Tier 3 sub');
  });

  it('says "banned" for a permanent ban and keeps the banned user in data', () => {
    const ban = payload('channel.ban.json');
    Object.assign(ban.event, { is_permanent: true, ends_at: null, reason: '' });
    const event = normalize(ban);
    assert.equal(event.summary, 'Mod_User banned Cool_User');
    assert.equal(event.actor?.id, '1339');
    assert.equal(event.data.userName, 'Cool_User');
  });

  it('keeps an unknown type with all its data and a generic summary', () => {
    const event = normalizeEvent(
      {
        type: 'channel.shoutout.create',
        version: '1',
        condition: { broadcaster_user_id: '1337', moderator_user_id: '1337' },
      },
      {
        broadcaster_user_id: '1337',
        broadcaster_user_login: 'cool_user',
        broadcaster_user_name: 'Cool_User',
        to_broadcaster_user_id: '42',
        to_broadcaster_user_login: 'other',
        viewer_count: 9,
        started_at: '2026-01-01T00:00:00Z',
        extra: { nested_field: [{ deep_key: null }] },
      },
      MESSAGE_TIME,
    );
    assert.equal(event.type, 'channel.shoutout.create');
    assert.equal(event.broadcasterId, '1337');
    assert.equal(event.actor, null);
    assert.equal(event.summary, 'New channel.shoutout.create event');
    assert.equal(event.occurredAt, AT_MESSAGE);
    assert.deepEqual(event.data, {
      toBroadcasterUserId: '42',
      toBroadcasterUserLogin: 'other',
      viewerCount: 9,
      startedAt: '2026-01-01T00:00:00Z',
      extra: { nestedField: [{ deepKey: null }] },
    });

    const withUser = normalizeEvent(
      { type: 'x.y', version: '1', condition: { broadcaster_user_id: '7' } },
      { user_id: '1', user_login: 'uni', user_name: 'Ünï 🎉' },
      MESSAGE_TIME,
    );
    assert.deepEqual([withUser.broadcasterId, withUser.broadcasterName], ['7', '7']);
    assert.deepEqual(withUser.actor, { id: '1', login: 'uni', name: 'Ünï 🎉' });
    assert.equal(withUser.summary, 'New x.y event from Ünï 🎉');

    const sideOnly = normalizeEvent(
      { type: 'channel.shoutout.receive', version: '1', condition: {} },
      { from_broadcaster_user_id: '9', from_broadcaster_user_name: 'Nine' },
      MESSAGE_TIME,
    );
    assert.deepEqual([sideOnly.broadcasterId, sideOnly.broadcasterName], ['9', 'Nine']);

    const oddName = normalizeEvent(
      { type: 'constructor', version: '1', condition: {} },
      { broadcaster_user_id: '1' },
      MESSAGE_TIME,
    );
    assert.equal(oddName.summary, 'New constructor event');
  });

  it('throws InvalidEventError naming a missing broadcaster or a field of the wrong type', () => {
    const missing = payload('channel.follow.json');
    delete missing.event.broadcaster_user_id;
    missing.subscription.condition = {};
    assert.throws(
      () => normalize(missing),
      (e: unknown) =>
        e instanceof InvalidEventError && /event\.broadcaster_user_id/.test(e.message),
    );
    assert.throws(
      () =>
        normalizeEvent(
          { type: 'channel.follow', version: '2', condition: {} },
          { broadcaster_user_id: { nested: true } },
          MESSAGE_TIME,
        ),
      (e: unknown) =>
        e instanceof InvalidEventError &&
        e.message === 'event.broadcaster_user_id must be a string, got object',
    );
    const cheer = payload('channel.cheer.json');
    cheer.event.bits = [1000];
    assert.throws(
      () => normalize(cheer),
      /^InvalidEventError: event\.bits must be a number, got array$/,
    );
    const resub = payload('channel.subscription.message.json');
    resub.event.message = { text: true };
    assert.throws(() => normalize(resub), /event\.message\.text must be a string, got boolean/);
    const revoke = payload('user.authorization.revoke.json');
    delete revoke.event.user_id;
    assert.throws(() => normalize(revoke), /event\.user_id is missing/);
  });

  it('dates an event by the message timestamp when its own time is missing or not a time', () => {
    const follow = payload('channel.follow.json');
    for (const bad of ['yesterday-ish', '1', 1594836971, null]) {
      follow.event.followed_at = bad;
      assert.equal(normalize(follow).occurredAt, AT_MESSAGE, String(bad));
    }
    assert.equal(
      normalize(follow, '2026-11-23T06:00:00+01:00').occurredAt,
      '2026-11-23T05:00:00.000Z',
    );
    assert.throws(() => normalize(follow, 'not a time'), InvalidEventError);
    assert.throws(() => normalize(payload('stream.offline.json'), ''), InvalidEventError);
  });

  it('falls back to the user id when a revoked user no longer exists', () => {
    const revoke = payload('user.authorization.revoke.json');
    Object.assign(revoke.event, { user_login: null, user_name: null });
    const event = normalize(revoke);
    assert.deepEqual(
      [event.broadcasterId, event.broadcasterLogin, event.broadcasterName],
      ['1337', '1337', '1337'],
    );
    assert.deepEqual(event.actor, { id: '1337', login: '1337', name: '1337' });
    assert.equal(event.summary, '1337 disconnected streamfeed');
  });

  it('caps a summary at one line of 300 characters and keeps the whole message in data', () => {
    const chat = payload('channel.chat.message.json');
    const text = `line one\nline two ${'x'.repeat(10_000 - 18)}`;
    assert.equal(text.length, 10_000);
    chat.event.message = { text, fragments: [{ type: 'text', text }] };
    const event = normalize(chat);
    assert.ok(event.summary.length <= 300, `${event.summary.length} characters`);
    assert.ok(event.summary.startsWith('viewer32: line one line two xxx'));
    assert.ok(event.summary.endsWith('…'));
    assert.equal((event.data.message as { text: string }).text, text);
  });

  it('keeps unicode names and never cuts a character in half', () => {
    const chat = payload('channel.chat.message.json');
    Object.assign(chat.event, {
      chatter_user_login: 'unicode_user',
      chatter_user_name: 'Ünïcödé_ユーザー',
      message: { text: '👩🏽‍🚀'.repeat(2_000), fragments: [] },
    });
    const event = normalize(chat);
    assert.equal(event.actor?.name, 'Ünïcödé_ユーザー');
    assert.ok(event.summary.startsWith('Ünïcödé_ユーザー: 👩🏽‍🚀'));
    assert.ok(event.summary.length <= 300);
    assert.ok(event.summary.isWellFormed());
    assert.match(event.summary, /^Ünïcödé_ユーザー: (👩🏽‍🚀)+…$/u);

    const poll = payload('channel.poll.begin.json');
    poll.event.broadcaster_user_name = '우주최강';
    poll.event.title = 'Ça va? 🎉';
    const pollEvent = normalize(poll);
    assert.equal(pollEvent.broadcasterName, '우주최강');
    assert.equal(pollEvent.summary, 'Poll started: Ça va? 🎉');
  });
});
