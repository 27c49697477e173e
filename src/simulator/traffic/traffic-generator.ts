import { randomUUID } from 'node:crypto';
import { eventSubHeaders, twitchTimestamp } from '../../shared/twitch/eventsub-delivery.js';
import { buildEvent, EVENT_TYPES, fakeUsers, seededRandom } from '../event-factory.js';
import { rngOf, type Rng } from '../event-factory/random.js';

export interface TrafficOptions {
  webhookUrl: string;
  /** The subscriptions' transport.secret (10-100 characters). */
  secret: string;
  streamers: number;
  /** Requests per second, duplicates and re-sends included. */
  rate?: number;
  /** Send this many at once: alone, the whole run; with `rate`, a head start before pacing. */
  burst?: number;
  durationSeconds?: number;
  /** Unique events; duplicates and re-sends come on top. */
  count?: number;
  /** Picked evenly; by default DEFAULT_TYPE_MIX. */
  types?: string[];
  /**
   * A follow-bot raid: every event is a follow of the first (busiest) streamer by an account
   * never seen before; `types` is not used.
   */
  followRaid?: boolean;
  /** Share (0..1) of events delivered again with the same message id (retry header 1). */
  duplicateShare?: number;
  /** Share (0..1) of events sent again under a new message id. */
  resendShare?: number;
  concurrency?: number;
  seed?: number;
  onProgress?: (progress: TrafficProgress) => void;
  progressEveryMs?: number;
  signal?: AbortSignal;
}

export interface TrafficProgress {
  sent: number;
  accepted: number;
  /** Answers outside 2xx. */
  rejected: number;
  errors: number;
  elapsedMs: number;
  ratePerSecond: number;
}

export interface TrafficSummary {
  sent: number;
  unique: number;
  duplicates: number;
  resends: number;
  accepted: number;
  /** Non-2xx answers by status. */
  rejected: Record<string, number>;
  /** Requests without an answer: refused, reset, timed out. */
  errors: number;
  /** The errors by cause (ECONNREFUSED, TimeoutError, ...). */
  errorsByCause: Record<string, number>;
  /** Each cause as the first of its errors said it, e.g. "connect ECONNREFUSED 127.0.0.1:1234". */
  errorDetails: Record<string, string>;
  elapsedMs: number;
  ratePerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Unique events by type. */
  byType: Record<string, number>;
}

/** Weights of a busy channel's day: chat and follows dominate, subs and cheers follow. */
export const DEFAULT_TYPE_MIX: Readonly<Record<string, number>> = Object.freeze({
  'channel.chat.message': 40,
  'channel.follow': 15,
  'channel.cheer': 8,
  'channel.subscribe': 7,
  'channel.subscription.message': 6,
  'channel.chat.notification': 6,
  'channel.channel_points_custom_reward_redemption.add': 5,
  'channel.subscription.gift': 3,
  'channel.subscription.end': 2,
  'channel.raid': 1,
  'channel.ban': 1,
  'channel.update': 1,
  'channel.hype_train.progress': 0.9,
  'channel.poll.progress': 0.6,
  'stream.online': 0.5,
  'stream.offline': 0.5,
  'channel.prediction.progress': 0.4,
  'channel.hype_train.begin': 0.3,
  'channel.hype_train.end': 0.3,
  'channel.poll.begin': 0.3,
  'channel.poll.end': 0.3,
  'channel.prediction.begin': 0.2,
  'channel.prediction.lock': 0.2,
  'channel.prediction.end': 0.2,
});

const VIEWERS = 1000;
const REQUEST_TIMEOUT_MS = 10_000;
/** A redelivery goes out within this many sends of its original, often while it is in flight. */
const REDELIVERY_WINDOW = 20;

type NumberOption = {
  [K in keyof TrafficOptions]-?: TrafficOptions[K] extends number | undefined ? K : never;
}[keyof TrafficOptions];
const whole = (n: number) => Number.isInteger(n) && n >= 1;
const positive = (n: number) => Number.isFinite(n) && n > 0;
const share = (n: number) => n >= 0 && n <= 1;
const NUMBER_RULES: ReadonlyArray<readonly [NumberOption, (n: number) => boolean, string]> = [
  ['streamers', whole, 'a whole number of at least 1'],
  ['rate', positive, 'above 0 (requests per second)'],
  ['burst', whole, 'a whole number of at least 1'],
  ['count', whole, 'a whole number of at least 1'],
  ['durationSeconds', positive, 'above 0'],
  ['duplicateShare', share, 'a share from 0 to 1'],
  ['resendShare', share, 'a share from 0 to 1'],
  ['concurrency', whole, 'a whole number of at least 1'],
  ['progressEveryMs', positive, 'above 0'],
  ['seed', Number.isFinite, 'a number'],
];

/** Throws one Error that lists every problem with `o`. */
export function validateTrafficOptions(o: TrafficOptions): void {
  const problems: string[] = [];
  if (!URL.canParse(o.webhookUrl) || !/^https?:/.test(o.webhookUrl)) {
    problems.push(`webhookUrl must be an http(s) URL, got "${o.webhookUrl}"`);
  }
  if (typeof o.secret !== 'string' || o.secret.length < 10 || o.secret.length > 100) {
    problems.push('the secret must be 10-100 characters, as Twitch requires');
  }
  if (o.streamers === undefined) problems.push('streamers is required');
  if (o.rate === undefined && o.burst === undefined) {
    problems.push('give a rate (requests per second) or a burst (requests sent at once)');
  }
  for (const [key, ok, want] of NUMBER_RULES) {
    const value = o[key];
    if (value !== undefined && !(typeof value === 'number' && ok(value))) {
      problems.push(`${key} must be ${want}, got ${String(value)}`);
    }
  }
  const unknown = (o.types ?? []).filter((t) => !EVENT_TYPES.includes(t));
  if (o.types?.length === 0) problems.push('types must name at least one type');
  if (unknown.length) {
    problems.push(`unknown types ${unknown.join(', ')} (known: ${EVENT_TYPES.join(', ')})`);
  }
  const burstOnly = o.burst !== undefined && o.rate === undefined;
  if (!burstOnly && o.count === undefined && o.durationSeconds === undefined && !o.signal) {
    problems.push('give a count, a durationSeconds or a signal, or the run never ends');
  }
  if (problems.length) throw new Error(`Invalid traffic options: ${problems.join('; ')}`);
}

interface Delivery {
  kind: 'original' | 'duplicate' | 'resend';
  type: string;
  version: string;
  body: string;
  messageId: string;
  retry: number;
}

/** Picks `share` of `total` items at random, exactly when the total is known. */
function sampler(share: number, total: number | undefined, rng: Rng): () => boolean {
  if (total === undefined) return () => rng.chance(share);
  let wanted = Math.round(share * total);
  let left = total;
  return () => {
    const yes = rng.random() * left < wanted;
    left--;
    if (yes) wanted--;
    return yes;
  };
}

/** Where the traffic comes from: streamers (some much busier), viewers, subscriptions. */
function createWorld(o: TrafficOptions, rng: Rng) {
  const people = fakeUsers(o.streamers + VIEWERS, rng.random);
  const streamers = people.slice(0, o.streamers).map((s, i) => [s, 1 / (i + 1)] as const);
  const viewers = people.slice(o.streamers);
  const types = o.types
    ? o.types.map((t) => [t, 1] as const)
    : Object.entries(DEFAULT_TYPE_MIX).map(([t, w]) => [t, w] as const);
  const subscriptions = new Map<string, { id: string; created_at: string }>();
  const subscription = (key: string) => {
    let sub = subscriptions.get(key);
    if (!sub) {
      const created = new Date(Date.now() - rng.int(3600, 30 * 86_400) * 1000);
      sub = { id: randomUUID(), created_at: twitchTimestamp(created) };
      subscriptions.set(key, sub);
    }
    return sub;
  };
  let bots = 0;
  return function nextEvent(): Omit<Delivery, 'kind' | 'retry' | 'messageId'> {
    const raid = o.followRaid === true;
    const broadcaster = raid ? streamers[0]![0] : rng.weighted(streamers);
    const type = raid ? 'channel.follow' : rng.weighted(types);
    const bot = raid ? ++bots : 0;
    // A raid comes from another channel; anyone else is a viewer.
    const others =
      type === 'channel.raid' && streamers.length > 1 ? streamers.map(([s]) => s) : viewers;
    let other = rng.pick(others);
    if (other === broadcaster) other = rng.pick(viewers);
    const built = buildEvent(type, {
      broadcaster,
      user: raid
        ? {
            id: String(900_000_000 + bot),
            login: `followbot_${bot}`,
            displayName: `followbot_${bot}`,
          }
        : rng.pick(viewers),
      other,
      random: rng.random,
    });
    const { id, created_at } = subscription(`${type}\n${JSON.stringify(built.condition)}`);
    const transport = { method: 'webhook', callback: o.webhookUrl };
    const body = JSON.stringify({
      subscription: {
        id,
        status: 'enabled',
        type,
        version: built.version,
        condition: built.condition,
        transport,
        created_at,
        cost: 0,
      },
      event: built.event,
    });
    return { type, version: built.version, body };
  };
}

function sleepUntil(at: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  const ms = at - performance.now();
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Why a request got no answer. fetch throws a bare "TypeError: fetch failed" and keeps the
 * reason in `cause`: a system error's code (ECONNREFUSED), or only a message ("bad port").
 */
export function failureOf(error: unknown): { cause: string; detail: string } {
  const { name, message } = error instanceof Error ? error : new Error(String(error));
  if (name === 'TimeoutError') {
    return { cause: name, detail: `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` };
  }
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const causeMessage = typeof cause?.message === 'string' ? cause.message : undefined;
  if (typeof cause?.code === 'string') {
    return { cause: cause.code, detail: causeMessage ?? cause.code };
  }
  if (causeMessage === 'bad port') {
    return {
      cause: causeMessage,
      detail: 'fetch refuses this port (a "bad port" of the Fetch standard)',
    };
  }
  if (causeMessage) return { cause: causeMessage, detail: `${message}: ${causeMessage}` };
  return { cause: name, detail: message };
}
const bump = (counts: Record<string, number>, key: string | number) =>
  (counts[key] = (counts[key] ?? 0) + 1);
const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]! : 0;
const tenths = (n: number) => Math.round(n * 10) / 10;

/** The counters of one run. */
function createTally() {
  const started = performance.now();
  const latencies: number[] = [];
  const s: Omit<TrafficSummary, 'elapsedMs' | 'ratePerSecond' | 'latencyMs'> = {
    sent: 0,
    unique: 0,
    duplicates: 0,
    resends: 0,
    accepted: 0,
    rejected: {},
    errors: 0,
    errorsByCause: {},
    errorDetails: {},
    byType: {},
  };
  const progress = (): TrafficProgress => {
    const elapsedMs = Math.round(performance.now() - started);
    const { sent, accepted, errors } = s;
    const rejected = Object.values(s.rejected).reduce((a, b) => a + b, 0);
    const ratePerSecond = tenths((sent * 1000) / Math.max(elapsedMs, 1));
    return { sent, accepted, rejected, errors, elapsedMs, ratePerSecond };
  };
  return {
    started,
    progress,
    sending(d: Delivery) {
      s.sent++;
      if (d.kind === 'duplicate') s.duplicates++;
      else if (d.kind === 'resend') s.resends++;
      else {
        s.unique++;
        bump(s.byType, d.type);
      }
    },
    answered(status: number, ms: number) {
      latencies.push(ms);
      if (status >= 200 && status < 300) s.accepted++;
      else bump(s.rejected, status);
    },
    failed(error: unknown) {
      s.errors++;
      const { cause, detail } = failureOf(error);
      bump(s.errorsByCause, cause);
      s.errorDetails[cause] ??= detail;
    },
    summary(): TrafficSummary {
      const sorted = latencies.sort((a, b) => a - b);
      const [p50, p95, p99] = [50, 95, 99].map((p) => tenths(percentile(sorted, p)));
      const latencyMs = { p50: p50!, p95: p95!, p99: p99!, max: tenths(sorted.at(-1) ?? 0) };
      const { elapsedMs, ratePerSecond } = progress();
      return { ...s, elapsedMs, ratePerSecond, latencyMs };
    },
  };
}

/**
 * What to send in each slot: a due redelivery, else a new event while the budget lasts, else
 * the redeliveries still waiting. Duplicates and re-sends follow their original within a few
 * slots, so some arrive while the original is still being processed.
 */
function createPlan(o: TrafficOptions, rng: Rng) {
  const nextEvent = createWorld(o, rng);
  const budget = Math.min(o.count ?? Infinity, o.rate === undefined ? o.burst! : Infinity);
  const known = Number.isFinite(budget) ? budget : undefined;
  const duplicate = sampler(o.duplicateShare ?? 0, known, rng);
  const resend = sampler(o.resendShare ?? 0, known, rng);
  const pending: Array<{ slot: number; delivery: Delivery }> = [];
  let made = 0;
  return function take(slot: number): Delivery | null {
    const due = pending.findIndex((p) => p.slot <= slot);
    if (due >= 0) return pending.splice(due, 1)[0]!.delivery;
    if (made >= budget) return pending.shift()?.delivery ?? null;
    made++;
    const original: Delivery = {
      kind: 'original',
      retry: 0,
      messageId: randomUUID(),
      ...nextEvent(),
    };
    const later = (d: Delivery) =>
      pending.push({ slot: slot + rng.int(1, REDELIVERY_WINDOW), delivery: d });
    if (duplicate()) later({ ...original, kind: 'duplicate', retry: 1 });
    if (resend()) later({ ...original, kind: 'resend', messageId: randomUUID() });
    return original;
  };
}

/** One signed POST; signed when sent, so a redelivery carries a fresh timestamp as Twitch's do. */
async function post(o: TrafficOptions, d: Delivery, tally: ReturnType<typeof createTally>) {
  const headers = eventSubHeaders(o.secret, {
    body: d.body,
    messageType: 'notification',
    subscriptionType: d.type,
    subscriptionVersion: d.version,
    messageId: d.messageId,
    retry: d.retry,
  });
  const t0 = performance.now();
  try {
    // Twitch follows no redirects and gives up after a timeout.
    const response = await fetch(o.webhookUrl, {
      method: 'POST',
      headers,
      body: d.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    await response.arrayBuffer();
    tally.answered(response.status, performance.now() - t0);
  } catch (error) {
    tally.failed(error);
  }
}

/**
 * Plays Twitch towards a webhook: signed EventSub notifications for fake streamers, paced at
 * `rate` against fixed send times (so it does not drift) or sent in a `burst`, never more than
 * `concurrency` in flight, with duplicate deliveries and re-sends. Stops at `count`,
 * `durationSeconds` or `signal`, lets the requests in flight finish, and sums up.
 */
export async function runTraffic(o: TrafficOptions): Promise<TrafficSummary> {
  validateTrafficOptions(o);
  const take = createPlan(o, rngOf(seededRandom(o.seed ?? Date.now())));
  const tally = createTally();
  const concurrency = o.concurrency ?? 32;
  const deadline = o.durationSeconds === undefined ? Infinity : o.durationSeconds * 1000;
  const interval = o.rate ? 1000 / o.rate : 0;
  const headStart = o.burst ?? 1;
  const dueAt = (slot: number) => (slot < headStart ? 0 : (slot - headStart + 1) * interval);
  const inFlight = new Set<Promise<void>>();
  const report = o.onProgress;
  const timer = report && setInterval(() => report(tally.progress()), o.progressEveryMs ?? 1000);
  try {
    for (let slot = 0; dueAt(slot) < deadline; slot++) {
      if (!(await sleepUntil(tally.started + dueAt(slot), o.signal))) break;
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      if (o.signal?.aborted || performance.now() - tally.started >= deadline) break;
      const delivery = take(slot);
      if (!delivery) break;
      tally.sending(delivery);
      const request = post(o, delivery, tally).finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
    await Promise.all(inFlight);
  } finally {
    clearInterval(timer);
  }
  return tally.summary();
}
