import assert from 'node:assert/strict';
import {
  ALWAYS_SHOWN_TYPES,
  EVENT_KINDS,
  isShown,
  kindOfType,
  typesShownFor,
} from '../../src/shared/events/event-kinds.js';
import { NORMALIZED_TYPES } from '../../src/shared/events/normalize.js';
import { FOLLOW_WAVE_TYPE } from '../../src/shared/feed/follow-waves.js';
import {
  plannedSubscriptions,
  STREAMER_MODE_SCOPES,
} from '../../src/shared/twitch/subscription-plan.js';

describe('event kinds', () => {
  it('puts every normalised type in exactly one kind, or among the always-shown ones', () => {
    assert.ok(NORMALIZED_TYPES.length >= 25, 'the normalisers are all there');
    for (const type of NORMALIZED_TYPES) {
      const kinds = EVENT_KINDS.filter((kind) => (kind.types as readonly string[]).includes(type));
      const alwaysShown = ALWAYS_SHOWN_TYPES.includes(type);
      assert.equal(
        kinds.length + Number(alwaysShown),
        1,
        `${type}: ${kinds.map((k) => k.id).join()}`,
      );
    }
  });

  it('names only types that are normalised or made by the pipeline, and every type streamfeed subscribes to', () => {
    const named = [...EVENT_KINDS.flatMap((kind) => kind.types), ...ALWAYS_SHOWN_TYPES];
    assert.deepEqual(
      named.filter((type) => !NORMALIZED_TYPES.includes(type)),
      [FOLLOW_WAVE_TYPE],
      "only a follow wave's entry, which the processor makes",
    );
    assert.equal(kindOfType(FOLLOW_WAVE_TYPE), 'follows', 'hiding follows hides their waves');
    assert.equal(new Set(named).size, named.length, 'no type twice');
    for (const { type } of plannedSubscriptions('42', STREAMER_MODE_SCOPES)) {
      assert.notEqual(kindOfType(type), null, type);
    }
  });

  it('shows the always-shown types whatever is hidden, and unknown types only with nothing hidden', () => {
    const allHidden = new Set(EVENT_KINDS.map((k) => k.id));
    assert.equal(isShown('channel.follow', allHidden), false);
    assert.equal(isShown('channel.follow', new Set(['raids'])), true);
    assert.equal(isShown('channel.ban', allHidden), true);
    assert.equal(isShown('channel.shoutout.create', new Set()), true);
    assert.equal(isShown('channel.shoutout.create', new Set(['raids'])), false);
    assert.deepEqual(typesShownFor(['raids']), ['channel.raid', ...ALWAYS_SHOWN_TYPES]);
  });
});
