import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
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
    // The line reaches this process through web's stdout, which may be behind its answer.
    await stack.processes
      .get('web')!
      .waitForOutput(new RegExp(`Acknowledged EventSub message ${messageId} again`));

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
  /**
   * Sends `head` (request line and headers) on a raw socket and collects what comes back until
   * the server closes or `ms` pass. `onText` sees each step and may write more, as a body.
   */
  const rawExchange = (
    head: string,
    onText: (text: string, write: (data: string) => void) => void = () => undefined,
    ms = 3000,
  ) =>
    new Promise<{ text: string; closed: boolean }>((resolve, reject) => {
      const { hostname, port } = new URL(stack.webUrl);
      const socket = connect(Number(port), hostname, () => socket.write(head));
      let text = '';
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ text, closed: false });
      }, ms);
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        onText(text, (data) => socket.write(data));
      });
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ text, closed: true });
      });
      socket.on('error', reject);
    });
  const LIMIT = 1024 * 1024;
  const headOf = (method: string, path: string, headers: Record<string, string>) =>
    `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    '\r\n';

  it('refuses a body declared over the limit with 413 before it is sent, and closes, with or without Expect', async () => {
    const before = await jobsOnRecord();
    const signed = eventSubHeaders(EVENTSUB_SECRET, {
      messageType: 'notification',
      body: '{}',
      ...asFollow,
    });
    const declared = {
      ...signed,
      'content-type': 'application/json',
      'content-length': String(LIMIT + 1),
    };
    const cases: Array<[string, string, Record<string, string>]> = [
      ['POST', '/webhooks/twitch', declared],
      ['POST', '/webhooks/twitch', { ...declared, expect: '100-continue' }],
      ['PUT', '/api/me/favorite', { 'content-length': String(LIMIT + 1) }],
      ['PUT', '/api/me/favorite', { 'content-length': '999999999', expect: '100-continue' }],
    ];
    for (const [method, path, headers] of cases) {
      const name = `${method} ${path} ${headers.expect ?? ''}`;
      const started = performance.now();
      // Not a byte of the body is sent: the answer must not wait for it.
      const { text, closed } = await rawExchange(headOf(method, path, headers));
      assert.match(text, /^HTTP\/1\.1 413 /, `${name}: ${text.slice(0, 60)}`);
      assert.doesNotMatch(text, /100 Continue/, name);
      assert.match(text, /\r\nconnection: close\r\n/i, name);
      assert.equal(errorCode(text.slice(text.indexOf('\r\n\r\n') + 4)), 'payload_too_large');
      assert.ok(closed, `${name}: the server closes the connection`);
      assert.ok(performance.now() - started < 2000, name);
    }
    assert.equal(await jobsOnRecord(), before, 'nothing was queued');
  });

  it('answers Expect: 100-continue with 100 Continue for a body within the limit, then takes it', async () => {
    const body = notificationBody(follow('8010', '8'));
    const headers = {
      ...eventSubHeaders(EVENTSUB_SECRET, { messageType: 'notification', body, ...asFollow }),
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      expect: '100-continue',
      connection: 'close',
    };
    let sent = false;
    const { text } = await rawExchange(headOf('POST', '/webhooks/twitch', headers), (t, write) => {
      if (!sent && t.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
        sent = true;
        write(body);
      }
    });
    assert.ok(sent, `100 Continue first: ${text.slice(0, 60)}`);
    assert.match(text, /\r\n\r\nHTTP\/1\.1 202 /);
  });

  it('answers a signed challenge whose body is JSON but not an object with a message that says so', async () => {
    for (const [body, message] of [
      ['null', 'Verification body is null, not a JSON object'],
      ['[]', 'Verification body is an array, not a JSON object'],
      ['{"challenge": 1}', 'Verification body has no challenge'],
    ]) {
      const result = await deliver(stack.webhookUrl, EVENTSUB_SECRET, {
        body: body!,
        messageType: 'webhook_callback_verification',
        ...asFollow,
      });
      assert.equal(result.status, 400, body);
      assert.deepEqual(JSON.parse(result.body), { error: { code: 'bad_request', message } });
    }
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
      assert.equal(errorCode(result.body), 'invalid_timestamp', timestamp);
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
