import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { eventSubHeaders } from '../../src/shared/twitch/eventsub-delivery.js';
import { createRejectedCallbacks } from '../../src/api/webhooks/rejected-callbacks.js';
import { MAX_JSON_DEPTH } from '../../src/api/webhooks/callback-body.js';
import { EVENTSUB_SECRET, QUEUES, countJobs, startStack, type Stack } from '../helpers/stack.js';
import { waitUntil } from '../helpers/simulator.js';
import { deliver, followPayload, notificationBody } from '../helpers/twitch.js';

const follow = (broadcasterId: string, userId: string) =>
  followPayload(broadcasterId, userId, new Date(Date.UTC(2026, 5, 1, 0, 0, Number(userId))));
const asFollow = { subscriptionType: 'channel.follow', subscriptionVersion: '2' };

describe('webhook abuse: malformed callbacks are refused without queuing', function () {
  this.timeout(60_000);
  let stack: Stack;
  const jobsOnRecord = async () =>
    Object.values(await countJobs(stack.queue(QUEUES.callbacks))).reduce((a, b) => a + b, 0);
  const errorCode = (body: string) => (JSON.parse(body) as { error: { code: string } }).error.code;

  /** The web log line that carries this request id. */
  const logLineOf = (reqId: string) =>
    stack.processes
      .get('web')!
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((entry) => entry.reqId === reqId);

  before(async () => {
    stack = await startStack({ without: ['realtime', 'emitter'] });
  });
  after(async () => {
    await stack?.stop();
  });

  it('answers 400 to a repeated Twitch header, which Node would otherwise join into one', async () => {
    const before = await jobsOnRecord();
    const body = notificationBody(follow('8001', '1'));
    const headers: Record<string, string | string[]> = eventSubHeaders(EVENTSUB_SECRET, {
      messageType: 'notification',
      body,
      ...asFollow,
    });
    headers['twitch-eventsub-message-type'] = ['notification', 'revocation'];
    const { status, text } = await new Promise<{ status: number; text: string }>(
      (resolve, reject) => {
        const req = request(stack.webhookUrl, { method: 'POST', headers }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.end(body);
      },
    );
    assert.equal(status, 400);
    assert.equal(errorCode(text), 'repeated_header');
    assert.equal(await jobsOnRecord(), before);
  });

  /** Sends `chunks` one write at a time (no Content-Length: chunked), and reads the answer. */
  const postInChunks = (headers: Record<string, string>, chunks: Buffer[]) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(stack.webhookUrl, { method: 'POST', headers }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      for (const chunk of chunks) req.write(chunk);
      req.end();
    });

  it('reads a body sent in many small chunks, and refuses one that grows past the limit or is compressed', async () => {
    const before = await jobsOnRecord();
    const body = notificationBody(follow('8004', '7'));
    const headers = eventSubHeaders(EVENTSUB_SECRET, {
      messageType: 'notification',
      body,
      ...asFollow,
    });
    const bytes = Buffer.from(body);
    const pieces = Array.from({ length: Math.ceil(bytes.length / 16) }, (_, i) =>
      bytes.subarray(i * 16, (i + 1) * 16),
    );
    const chunked = await postInChunks(headers, pieces);
    assert.equal(chunked.status, 202, 'the signature holds over the reassembled bytes');
    assert.equal(await jobsOnRecord(), before + 1);

    // No Content-Length to refuse it up front: 2 MiB arrives, over the 1 MiB default limit.
    const megabyte = Buffer.alloc(1024 * 1024, 'x');
    const endless = await postInChunks(headers, [megabyte, megabyte]);
    assert.equal(endless.status, 413);
    assert.equal(errorCode(endless.text), 'payload_too_large');

    const compressed = await postInChunks({ ...headers, 'content-encoding': 'gzip' }, [bytes]);
    assert.equal(compressed.status, 415);
    assert.equal(errorCode(compressed.text), 'unsupported_encoding');
    assert.equal(await jobsOnRecord(), before + 1);
  });

  it("ties a refusal's log line to the request id, the balancer's own or a new one", async () => {
    const body = notificationBody(follow('8001', '2'));
    const forged = (requestId: string) =>
      deliver(stack.webhookUrl, 'not-the-eventsub-secret', { body, ...asFollow }, (headers) => {
        headers['x-request-id'] = requestId;
      });
    const kept = await forged('lb-req-0123456789');
    assert.equal(kept.status, 403);
    assert.equal(kept.requestId, 'lb-req-0123456789');
    const replaced = await forged('not an id!');
    assert.match(replaced.requestId ?? '', /^[0-9a-f-]{36}$/);
    await waitUntil(
      () =>
        logLineOf(kept.requestId!) !== undefined && logLineOf(replaced.requestId!) !== undefined,
    );
    const line = logLineOf(kept.requestId)!;
    assert.equal(line.msgId, kept.messageId);
    assert.match(String(line.msg), /bad signature/);
  });

  it('refuses signatures of the wrong length with 403', async () => {
    const body = notificationBody(follow('8001', '2'));
    for (const wrong of [(s: string) => s.slice(0, -1), (s: string) => `${s}0`, () => 'sha256=']) {
      const result = await deliver(
        stack.webhookUrl,
        EVENTSUB_SECRET,
        { body, ...asFollow },
        (h) => {
          h['twitch-eventsub-message-signature'] = wrong(h['twitch-eventsub-message-signature']!);
        },
      );
      assert.equal(result.status, 403);
      assert.equal(errorCode(result.body), 'bad_signature');
    }
  });

  it('answers 400 to signed bodies that are not EventSub, keeps them for inspection, and the processor goes on', async () => {
    const before = await jobsOnRecord();
    const bomb = '['.repeat(200_000) + ']'.repeat(200_000);
    const cases: Array<[string, string, RegExp]> = [
      ['not json', 'subscription=1&event=2', /not JSON/],
      ['truncated json', notificationBody(follow('8001', '3')).slice(0, 40), /not JSON/],
      ['json bomb', bomb, new RegExp(`deeper than ${MAX_JSON_DEPTH} levels`)],
      ['a bomb inside an event', `{"subscription":{"type":"x"},"event":${bomb}}`, /deeper/],
      ['an array', '[]', /not a JSON object/],
      ['no subscription type', '{"subscription":{},"event":{}}', /no subscription/],
      ['no event', '{"subscription":{"type":"channel.follow"}}', /no event/],
    ];
    const messageIds: string[] = [];
    for (const [name, body, reason] of cases) {
      const result = await deliver(stack.webhookUrl, EVENTSUB_SECRET, { body, ...asFollow });
      assert.equal(result.status, 400, name);
      assert.equal(errorCode(result.body), 'unusable_body', name);
      assert.match(result.body, reason, name);
      messageIds.push(result.messageId);
    }
    assert.equal(await jobsOnRecord(), before, 'nothing was queued');

    const kept = await createRejectedCallbacks(stack.redis, stack.prefix).list();
    assert.deepEqual(
      kept.map((k) => k.messageId),
      [...messageIds].reverse(),
      'every rejected callback is kept, newest first',
    );
    const keptBomb = kept.find((k) => k.messageId === messageIds[2])!;
    assert.equal(keptBomb.bodyBytes, bomb.length);
    assert.equal(keptBomb.body.length, 16 * 1024, 'a kept body is cut, not the whole bomb');
    assert.equal(keptBomb.subscriptionType, 'channel.follow');

    const good = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
      body: notificationBody(follow('8001', '4')),
      ...asFollow,
    });
    assert.equal(good.status, 202);
    await waitUntil(
      async () =>
        (await stack.knex('events').where({ broadcaster_id: '8001' }).count('* as n'))[0]!.n ===
        '1',
      10_000,
      'the next good event stored',
    );
    assert.equal(stack.processes.get('processor')!.child.exitCode, null, 'processor still running');
  });

  it('acknowledges a resent message id with 2xx and queues nothing, after it was processed', async () => {
    const body = notificationBody(follow('8002', '5'));
    const messageId = randomUUID();
    const first = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
      body,
      messageId,
      ...asFollow,
    });
    assert.equal(first.status, 202);
    await waitUntil(
      async () =>
        (await stack.queue(QUEUES.callbacks).getCompletedCount()) > 0 &&
        (await stack.knex('events').where({ broadcaster_id: '8002' })).length === 1,
      10_000,
      'the first delivery processed and stored',
    );
    // Keep the BullMQ record from answering for us: only the processed-message mark may.
    await stack.queue(QUEUES.callbacks).clean(0, 1000, 'completed');
    const before = await jobsOnRecord();

    const resend = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
      body,
      messageId,
      retry: 1,
      ...asFollow,
    });
    assert.equal(resend.status, 204);
    assert.equal(await jobsOnRecord(), before, 'the resend queued nothing');
    assert.match(
      stack.processes.get('web')!.output(),
      new RegExp(`Acknowledged EventSub message ${messageId} again`),
    );

    // A replay that claims to be a first delivery skips the shortcut: it is queued, and the
    // processor drops it as already processed.
    const replay = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
      body,
      messageId,
      retry: 0,
      ...asFollow,
    });
    assert.equal(replay.status, 202);
    await waitUntil(
      () =>
        stack.processes
          .get('processor')!
          .output()
          .includes(`Skipped EventSub message ${messageId}: already processed`),
      10_000,
      'the processor dropped the replay',
    );
    assert.equal((await stack.knex('events').where({ broadcaster_id: '8002' })).length, 1);
  });

  it('judges the message timestamp by RFC 3339 as the processor does: refuses what it would fail', async () => {
    const now = new Date();
    // What Date.parse took: an RFC 1123 date, and a zone-less time read in the server's own zone.
    const local = new Date(now.getTime() - now.getTimezoneOffset() * 60_000);
    const refused = [now.toUTCString(), local.toISOString().slice(0, -1)];
    const before = await jobsOnRecord();
    for (const timestamp of refused) {
      const result = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
        body: notificationBody(follow('8003', '1')),
        timestamp,
        ...asFollow,
      });
      assert.equal(result.status, 403, timestamp);
      assert.equal(errorCode(result.body), 'stale_timestamp', timestamp);
    }
    assert.equal(await jobsOnRecord(), before, 'nothing queued');

    // Other RFC 3339 spellings of now are taken, and the processor stores their events.
    const offset = new Date(now.getTime() + 330 * 60_000).toISOString().replace('Z', '+05:30');
    const accepted = [offset, now.toISOString().replace('T', 't').replace('Z', 'z')];
    for (const [i, timestamp] of accepted.entries()) {
      const result = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
        body: notificationBody(follow('8003', String(10 + i))),
        timestamp,
        ...asFollow,
      });
      assert.equal(result.status, 202, `${timestamp}: ${result.body}`);
    }
    await waitUntil(
      async () => (await stack.knex('events').where({ broadcaster_id: '8003' })).length === 2,
      10_000,
      'both stored',
    );
  });
});
