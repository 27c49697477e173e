import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { signEventSub, verifyEventSubSignature } from '../../src/shared/twitch/signature.js';
import { repoRoot } from '../helpers/processes.js';

interface SignedVector {
  secret: string;
  headers: Record<string, string>;
  body: string;
}
const vectors = JSON.parse(
  readFileSync(path.resolve(repoRoot, '..', 'shared', 'twitch', 'signed-vector.json'), 'utf8'),
) as SignedVector[];

describe('EventSub signature', () => {
  it('verifies the signed Twitch request in shared/twitch/signed-vector.json', () => {
    assert.ok(vectors.length > 0);
    for (const v of vectors) {
      const id = v.headers['Twitch-Eventsub-Message-Id']!;
      const ts = v.headers['Twitch-Eventsub-Message-Timestamp']!;
      const sig = v.headers['Twitch-Eventsub-Message-Signature']!;
      assert.equal(signEventSub(v.secret, id, ts, Buffer.from(v.body)), sig);
      assert.equal(verifyEventSubSignature(v.secret, id, ts, Buffer.from(v.body), sig), true);
    }
  });

  it('rejects a changed body, id, timestamp, secret or signature', () => {
    const v = vectors[0]!;
    const id = v.headers['Twitch-Eventsub-Message-Id']!;
    const ts = v.headers['Twitch-Eventsub-Message-Timestamp']!;
    const sig = v.headers['Twitch-Eventsub-Message-Signature']!;
    const body = Buffer.from(v.body);
    assert.equal(verifyEventSubSignature(v.secret, id, ts, Buffer.from(v.body + ' '), sig), false);
    assert.equal(verifyEventSubSignature(v.secret, `${id}x`, ts, body, sig), false);
    // The header string is signed verbatim: the same instant written differently does not verify.
    assert.equal(
      verifyEventSubSignature(v.secret, id, ts.replace('8091512Z', '809151200Z'), body, sig),
      false,
    );
    assert.equal(verifyEventSubSignature('secretabce', id, ts, body, sig), false);
    assert.equal(verifyEventSubSignature(v.secret, id, ts, body, sig.toUpperCase()), false);
  });

  it('treats a signature of the wrong length as bad instead of throwing', () => {
    const v = vectors[0]!;
    const id = v.headers['Twitch-Eventsub-Message-Id']!;
    const ts = v.headers['Twitch-Eventsub-Message-Timestamp']!;
    for (const sig of [
      '',
      'sha256=',
      'sha256=abc',
      `${v.headers['Twitch-Eventsub-Message-Signature']}00`,
    ]) {
      assert.equal(verifyEventSubSignature(v.secret, id, ts, Buffer.from(v.body), sig), false);
    }
  });

  it('signs raw bytes, so \\u0026-style escapes must not be re-serialised', () => {
    const raw = '{"event":{"message":"a \\u0026 b \\u003c3"}}';
    const reserialised = JSON.stringify(JSON.parse(raw));
    assert.notEqual(raw, reserialised);
    const sig = signEventSub('secretabcd', 'id', 'ts', raw);
    assert.equal(verifyEventSubSignature('secretabcd', 'id', 'ts', Buffer.from(raw), sig), true);
    assert.equal(
      verifyEventSubSignature('secretabcd', 'id', 'ts', Buffer.from(reserialised), sig),
      false,
    );
  });
});
