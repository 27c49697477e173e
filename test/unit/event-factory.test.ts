import assert from 'node:assert/strict';
import { normalizeEvent } from '../../src/shared/events/normalize.js';
import {
  buildEvent,
  EVENT_TYPES,
  fakeUsers,
  seededRandom,
  type FakeUser,
} from '../../src/simulator/event-factory.js';
import { loadPayloads } from '../helpers/twitch.js';

const NOW = new Date('2026-11-23T05:00:00.123Z');
const MESSAGE_TIME = '2026-11-23T05:00:00.123456789Z';
const TWITCH_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;
const SEEDS = Array.from({ length: 40 }, (_, i) => i + 1);
/** Types whose event names only people, so nothing in them is left to chance. */
const FIXED = new Set(['stream.offline', 'user.authorization.grant']);

const docs = new Map(
  [...loadPayloads()]
    .filter(([, payload]) => payload.event !== undefined)
    .map(([, payload]) => [payload.subscription.type, payload]),
);
const [broadcaster, user, other] = fakeUsers(3, seededRandom(99)) as [FakeUser, FakeUser, FakeUser];

function build(type: string, seed: number, overrides?: Record<string, unknown>) {
  return buildEvent(type, {
    broadcaster,
    user,
    other,
    now: NOW,
    random: seededRandom(seed),
    ...(overrides ? { overrides } : {}),
  });
}

/** Every string under `value` whose key ends in `_at`. */
function times(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((item) => times(item, found));
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key.endsWith('_at') && typeof inner === 'string') found.push(inner);
      times(inner, found);
    }
  }
  return found;
}

describe('event factory', () => {
  it('builds exactly the types of the docs payloads', () => {
    assert.deepEqual([...EVENT_TYPES].sort(), [...docs.keys()].sort());
  });

  for (const type of [...new Set([...EVENT_TYPES, ...docs.keys()])].sort()) {
    describe(type, () => {
      const example = docs.get(type);

      it('has the docs top-level keys, version and condition keys for every seed', () => {
        assert.ok(example?.event, `payloads/${type}.json has an event`);
        for (const seed of SEEDS) {
          const built = build(type, seed);
          assert.deepEqual(
            Object.keys(built.event).sort(),
            Object.keys(example.event).sort(),
            `seed ${seed}`,
          );
          assert.equal(built.version, example.subscription.version);
          assert.equal(built.type, type);
          for (const [key, value] of Object.entries(built.condition)) {
            assert.ok(key in example.subscription.condition, `condition.${key} is documented`);
            assert.match(value, /^\w+$/, `condition.${key}`);
          }
        }
      });

      it('is accepted by normalizeEvent on the broadcaster channel', () => {
        for (const seed of SEEDS) {
          const built = build(type, seed);
          const draft = normalizeEvent(built, built.event, MESSAGE_TIME);
          assert.equal(draft.broadcasterId, broadcaster.id, `seed ${seed}`);
          assert.equal(draft.type, type);
          for (const time of times(built.event)) assert.match(time, TWITCH_TIME);
        }
      });

      it('is the same for the same seed and differs for another', () => {
        assert.deepEqual(build(type, 7), build(type, 7));
        const variants = new Set(SEEDS.map((seed) => JSON.stringify(build(type, seed).event)));
        assert.equal(variants.size > 1, !FIXED.has(type), 'values vary with the seed');
      });
    });
  }

  it('names the subscription conditions Twitch requires', () => {
    const id = broadcaster.id;
    assert.deepEqual(build('channel.follow', 1).condition, {
      broadcaster_user_id: id,
      moderator_user_id: id,
    });
    assert.deepEqual(build('channel.raid', 1).condition, { to_broadcaster_user_id: id });
    assert.deepEqual(build('channel.chat.message', 1).condition, {
      broadcaster_user_id: id,
      user_id: id,
    });
    const grant = build('user.authorization.grant', 1);
    assert.deepEqual(grant.condition, { client_id: grant.event.client_id });
  });

  it('merges overrides last, and conditions follow them', () => {
    const built = build('channel.cheer', 3, { bits: 4242, broadcaster_user_id: '777' });
    assert.equal(built.event.bits, 4242);
    assert.deepEqual(built.condition, { broadcaster_user_id: '777' });
    const raid = build('channel.raid', 3, { viewers: 1 });
    assert.equal(raid.event.viewers, 1);
  });

  it('varies the values that matter', () => {
    const many = (type: string) => SEEDS.map((seed) => build(type, seed).event);
    const values = (type: string, key: string) => new Set(many(type).map((e) => e[key]));
    assert.deepEqual([...values('channel.subscribe', 'tier')].sort(), ['1000', '2000', '3000']);
    assert.ok(values('channel.cheer', 'bits').size >= 4);
    assert.ok(values('channel.cheer', 'is_anonymous').has(true), 'anonymous cheers happen');
    assert.ok(values('channel.subscription.gift', 'is_anonymous').has(true));
    assert.ok(values('channel.raid', 'viewers').size >= 20);
    for (const cheer of many('channel.cheer')) {
      const motes = [...String(cheer.message).matchAll(/\b[A-Za-z]+?(\d+)\b/g)];
      const sum = motes.reduce((total, [, n]) => total + Number(n), 0);
      assert.equal(sum, cheer.bits, `cheermotes of "${String(cheer.message)}" add up`);
      if (cheer.is_anonymous) assert.equal(cheer.user_id, null);
    }
    const chat = SEEDS.flatMap((seed) =>
      Array.from({ length: 10 }, (_, i) => build('channel.chat.message', seed * 100 + i)),
    ).map((b) => (b.event.message as { text: string }).text);
    assert.ok(
      chat.some((text) => text.length > 400),
      'a wall of text now and then',
    );
    assert.ok(
      chat.some((text) => /Kappa|PogChamp/.test(text)),
      'emotes',
    );
    assert.ok(
      chat.some((text) => /[^\p{ASCII}]/u.test(text)),
      'unicode',
    );
  });

  it('throws a clear error for an unknown type', () => {
    assert.throws(() => build('channel.nope', 1), /Unknown EventSub type "channel\.nope"/);
  });
});

describe('fakeUsers and seededRandom', () => {
  it('makes valid, unique logins and ids with varied display names', () => {
    const users = fakeUsers(2000, seededRandom(5));
    for (const u of users) {
      assert.match(u.login, /^[a-z0-9_]{4,25}$/, u.login);
      assert.match(u.id, /^[1-9]\d*$/, u.id);
      assert.ok(u.displayName.length > 0);
    }
    assert.equal(new Set(users.map((u) => u.login)).size, users.length, 'unique logins');
    assert.equal(new Set(users.map((u) => u.id)).size, users.length, 'unique ids');
    const names = users.map((u) => u.displayName);
    assert.ok(
      names.some((n) => /^[\x20-\x7e]+$/.test(n)),
      'plain ascii',
    );
    assert.ok(
      names.some((n) => /[À-ÿ]/.test(n)),
      'accented letters',
    );
    assert.ok(
      names.some((n) => /[\u3040-\u30ff\uac00-\ud7af]/.test(n)),
      'Japanese or Korean',
    );
    assert.ok(
      names.some((n) => /\p{Extended_Pictographic}/u.test(n)),
      'emoji',
    );
  });

  it('replays with the same seed', () => {
    assert.deepEqual(fakeUsers(50, seededRandom(8)), fakeUsers(50, seededRandom(8)));
    assert.notDeepEqual(fakeUsers(50, seededRandom(8)), fakeUsers(50, seededRandom(9)));
    const a = seededRandom(1);
    const b = seededRandom(1);
    const draws = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(
      draws,
      Array.from({ length: 1000 }, () => b()),
    );
    assert.ok(draws.every((n) => n >= 0 && n < 1));
  });
});
