import assert from 'node:assert/strict';
import type { Job } from 'bullmq';
import { pino } from 'pino';
import type { StreamEvent } from '../../src/shared/events/event.js';
import type { FeedCache } from '../../src/shared/feed/feed-cache.js';
import type { FollowDecision, FollowWaves } from '../../src/shared/feed/follow-waves.js';
import type {
  EventSubCallbackJob,
  FeedNotification,
  FlushFollowWaveJob,
  PersistEventJob,
} from '../../src/shared/queues.js';
import type { RedisClient } from '../../src/shared/connections/redis.js';
import { createEventSubCallbackProcessor } from '../../src/workers/processors/eventsub-callback.processor.js';
import { followPayload, notificationBody } from '../helpers/twitch.js';

const wave = (count: number): StreamEvent => ({
  id: 'wave_x',
  type: 'channel.follow.wave',
  broadcasterId: '4242',
  broadcasterLogin: 'raided',
  broadcasterName: 'Raided',
  occurredAt: '2026-01-01T00:00:00.000Z',
  actor: null,
  summary: `Follow wave: ${count} new followers in 2 s`,
  data: { count },
});

/** The callback processor with a wave decision the test picks, and what it queues. */
function harness(
  decide: (follow: StreamEvent) => FollowDecision,
  append: FeedCache['append'] = () => Promise.reject(new Error('the decision appends a follow')),
) {
  const notified: FeedNotification[] = [];
  const persisted: PersistEventJob[] = [];
  const flushes: Array<{ job: FlushFollowWaveJob; at: number }> = [];
  const waves: FollowWaves = {
    take: (follow) => Promise.resolve(decide(follow)),
    flush: () => Promise.resolve(null),
  };
  const redis = { exists: () => Promise.resolve(0), set: () => Promise.resolve('OK') };
  const process = createEventSubCallbackProcessor({
    redis: redis as unknown as RedisClient,
    prefix: 't',
    dedupeWindowSeconds: 60,
    identify: () => Promise.resolve({ id: 'ev_follow', duplicateContent: false }),
    cache: { append } as unknown as FeedCache,
    queueNotification: (n) => Promise.resolve(void notified.push(n)),
    queuePersist: (row) => Promise.resolve(void persisted.push(row)),
    waves,
    queueWaveFlush: (job, at) => Promise.resolve(void flushes.push({ job, at })),
    revocations: { markRevoked: () => Promise.resolve() },
    endUserSessions: () => Promise.resolve(),
    log: pino({ level: 'silent' }),
  });
  const run = (messageId: string, backfilled?: true) =>
    process({
      id: 'job-1',
      data: {
        messageId,
        messageType: 'notification',
        messageTimestamp: '2026-01-01T00:00:01.000Z',
        messageRetry: '0',
        subscriptionType: 'channel.follow',
        subscriptionVersion: '2',
        body: notificationBody(followPayload('4242', '77')),
        receivedAt: 0,
        ...(backfilled ? { backfilled } : {}),
      },
    } as Job<EventSubCallbackJob>);
  return { run, notified, persisted, flushes };
}

const absorbed = (
  follow: StreamEvent,
  overrides: Partial<Extract<FollowDecision, { kind: 'absorbed' }>>,
): FollowDecision => ({
  kind: 'absorbed',
  created: true,
  messageId: 'm1',
  seq: 21,
  follow: { ...follow, data: { ...follow.data, waveId: 'wave_x' } },
  wave: wave(1),
  action: 'none',
  flushAt: 5000,
  ...overrides,
});

const rowNotice = (seq: number, event: StreamEvent): FeedNotification => ({
  broadcasterId: '4242',
  seq,
  event,
  sentAt: '2026-01-01T00:00:01.000Z',
});

describe('the callback processor and follow waves', () => {
  it('announces a wave when it opens, and stores the follow under its position', async () => {
    const h = harness((follow) => absorbed(follow, { action: 'opened' }));
    assert.deepEqual(await h.run('m1'), { duplicate: false, events: ['ev_follow'] });
    assert.deepEqual(h.notified, [
      { broadcasterId: '4242', seq: 21, event: wave(1), sentAt: '2026-01-01T00:00:01.000Z' },
    ]);
    assert.deepEqual(
      h.persisted.map((row) => [row.event.id, row.seq, row.event.data.waveId]),
      [
        ['ev_follow', 21, 'wave_x'],
        ['wave_x', 21, undefined],
      ],
    );
    assert.deepEqual(h.flushes, []);
  });

  it('sends an update when one is due, and queues the trailing one otherwise', async () => {
    const publish = harness((follow) => absorbed(follow, { action: 'publish', wave: wave(7) }));
    await publish.run('m1');
    assert.deepEqual(publish.notified, [{ broadcasterId: '4242', seq: 21, updated: wave(7) }]);
    const schedule = harness((follow) => absorbed(follow, { action: 'schedule' }));
    await schedule.run('m1');
    assert.deepEqual(schedule.notified, []);
    assert.deepEqual(schedule.flushes, [
      { job: { broadcasterId: '4242', waveId: 'wave_x' }, at: 5000 },
    ]);
  });

  it('re-sends the entry and its state on a retry, and makes sure of a trailing update', async () => {
    const h = harness((follow) => absorbed(follow, { created: false, wave: wave(9) }));
    const before = Date.now();
    assert.deepEqual(await h.run('m1'), { duplicate: false, events: ['ev_follow'] });
    assert.deepEqual(h.notified, [
      { broadcasterId: '4242', seq: 21, event: wave(9), sentAt: '2026-01-01T00:00:01.000Z' },
      { broadcasterId: '4242', seq: 21, updated: wave(9) },
    ]);
    assert.equal(h.persisted.length, 2);
    assert.equal(h.flushes.length, 1);
    assert.ok(h.flushes[0]!.at >= before + 1000);
  });

  it('drops a follow another message delivered first', async () => {
    const h = harness((follow) => absorbed(follow, { created: false, messageId: 'm0' }));
    assert.deepEqual(await h.run('m1'), { duplicate: true, events: [] });
    assert.deepEqual([h.notified, h.persisted, h.flushes], [[], [], []]);
  });

  it('announces a live follow under the seq its decision appended it with', async () => {
    const h = harness((follow) => ({
      kind: 'live',
      created: true,
      seq: 7,
      event: follow,
      messageId: 'm1',
    }));
    assert.deepEqual(await h.run('m1'), { duplicate: false, events: ['ev_follow'] });
    assert.deepEqual(
      h.persisted.map((row) => [row.event.id, row.event.type, row.seq, row.messageId]),
      [['ev_follow', 'channel.follow', 7, 'm1']],
    );
    assert.deepEqual(h.notified, [rowNotice(7, h.persisted[0]!.event)]);
  });

  it('re-sends a retried live follow under its first seq, and drops one another message made', async () => {
    const decide = (messageId: string) => (follow: StreamEvent) =>
      ({ kind: 'live', created: false, seq: 7, event: follow, messageId }) as const;
    const retried = harness(decide('m1'));
    assert.deepEqual(await retried.run('m1'), { duplicate: false, events: ['ev_follow'] });
    assert.deepEqual(retried.notified, [rowNotice(7, retried.persisted[0]!.event)]);
    const duplicate = harness(decide('m0'));
    assert.deepEqual(await duplicate.run('m1'), { duplicate: true, events: [] });
    assert.deepEqual([duplicate.notified, duplicate.persisted], [[], []]);
  });

  it('appends a backfilled follow with the plain append, past the wave decision', async () => {
    const appended: StreamEvent[] = [];
    const h = harness(
      () => {
        throw new Error('a backfilled follow never makes a wave');
      },
      (event, messageId) => {
        appended.push(event);
        return Promise.resolve({ created: true, seq: 3, event, messageId });
      },
    );
    assert.deepEqual(await h.run('m1', true), { duplicate: false, events: ['ev_follow'] });
    assert.deepEqual(
      appended.map((e) => [e.id, e.backfilled]),
      [['ev_follow', true]],
    );
    assert.deepEqual(h.notified, [rowNotice(3, appended[0]!)]);
  });
});
