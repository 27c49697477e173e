import { Agent, request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { io as connectSocket, type Socket } from 'socket.io-client';
import {
  EVENTSUB_SECRET,
  QUEUES,
  startStack,
  type Stack,
  type StackOptions,
} from '../test/helpers/stack.js';
import { followPayload } from '../test/helpers/twitch.js';
import { eventSubHeaders } from '../src/shared/twitch/eventsub-delivery.js';
import type { StreamEvent } from '../src/shared/events/event.js';
import { createRealtimeTokens } from '../src/shared/realtime-token.js';
import { latencySummary } from './load.js';
import { cpuMsOf, cpuMsOfCommand, rssOf, startYardstick } from './child.js';
import {
  commandCostsOf,
  perEventOf,
  redisServerProbe,
  type CommandCost,
  type RedisServerCounters,
  type RedisServerStep,
} from './redis-servers.js';

type Log = (line: string) => void;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Connects `count` sockets, `parallel` at a time; each may run `then` once connected. */
async function connectMany(
  count: number,
  url: (i: number) => string,
  auth: (i: number) => Promise<Record<string, string>> | Record<string, string>,
  then: (socket: Socket, i: number) => unknown = () => undefined,
  log?: Log,
): Promise<Socket[]> {
  const sockets: Socket[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(100, count) }, async () => {
      while (next < count) {
        const i = next++;
        const socket = connectSocket(url(i), {
          auth: await auth(i),
          transports: ['websocket'],
          reconnection: false,
        });
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('connect_error', reject);
        });
        await then(socket, i);
        sockets.push(socket);
        if (log && sockets.length % 2000 === 0) log(`    ${sockets.length}/${count} sockets`);
      }
    }),
  );
  return sockets;
}

const watch = (socket: Socket, broadcasterId: string) =>
  socket.timeout(30_000).emitWithAck('watch', { broadcasterId }) as Promise<{ ok: boolean }>;

/** Signed follow webhooks at a fixed rate (open loop), remembering when each was sent. */
async function sendAtRate(options: {
  stack: Stack;
  streamers: string[];
  rate: number;
  count: number;
  firstUser: number;
  /** Filled as each webhook goes out: follower id -> send time, for the receivers to read. */
  sentAt: Map<string, number>;
}) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const { sentAt } = options;
  const statuses: Record<string, number> = {};
  const started = performance.now();
  const inFlight: Array<Promise<void>> = [];
  for (let n = 0; n < options.count; n++) {
    const due = started + (n * 1000) / options.rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const user = String(options.firstUser + n);
    const body = JSON.stringify(
      followPayload(options.streamers[n % options.streamers.length]!, user),
    );
    const headers = eventSubHeaders(EVENTSUB_SECRET, {
      body,
      messageType: 'notification',
      subscriptionType: 'channel.follow',
      subscriptionVersion: '2',
      messageId: randomUUID(),
    });
    sentAt.set(user, Date.now());
    inFlight.push(
      new Promise<void>((resolve) => {
        const req = request(
          `${options.stack.webhookUrl}`,
          {
            method: 'POST',
            headers: { ...headers, 'content-length': Buffer.byteLength(body) },
            agent,
          },
          (res) => {
            res.resume();
            statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
            res.on('end', resolve);
          },
        );
        req.on('error', () => {
          statuses.error = (statuses.error ?? 0) + 1;
          resolve();
        });
        req.end(body);
      }),
    );
  }
  await Promise.all(inFlight);
  agent.destroy();
  return { statuses, seconds: (performance.now() - started) / 1000 };
}

export interface EndToEndStep {
  rate: number;
  seconds: number;
  events: number;
  watchers: number;
  expectedDeliveries: number;
  delivered: number;
  lost: number;
  duplicated: number;
  latencyMs: ReturnType<typeof latencySummary>;
  webhookAnswers: Record<string, number>;
  /** Redis work per event over the step, summed over its servers (all of a cluster's masters). */
  redis: { cpuMsPerEvent: number; commandsPerEvent: number };
  /** The same for each server, with its share of the commands. */
  redisServers: RedisServerStep[];
  /** The servers' command time by command, costliest first (empty without `redisPorts`). */
  redisCommands: CommandCost[];
  /**
   * CPU ms per event of each process over the step, the bench's own (load generator and
   * watchers) and PostgreSQL's (all its processes) included: which one gives out first when
   * they share the cores.
   */
  cpuMsPerEvent: Record<string, number>;
  /** Callback and notification jobs waiting, sampled every second while sending. */
  backlog: number[];
  /** Whether the backlog ended the step growing, or over a second of traffic behind. */
  backlogGrowing: boolean;
  /** RSS of each process (MiB) as the last webhook of the step went out. */
  rssUnderLoadMiB: Record<string, number>;
}

export interface EndToEndResult {
  steps: EndToEndStep[];
  /** The highest step rate with p99 under 1 s and nothing lost, held for longer. */
  hold: (EndToEndStep & { held: boolean }) | null;
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

/**
 * Not keeping up: the last sample is over 100 jobs and either over twice the highest of the first
 * half (growing), or more than a second's worth of traffic (too far behind already).
 */
function isGrowing(samples: number[], rate: number): boolean {
  if (samples.length < 4) return false;
  const firstHalf = Math.max(...samples.slice(0, Math.floor(samples.length / 2)));
  const last = samples.at(-1)!;
  return last > 100 && (last > 2 * firstHalf || last > rate);
}

/** Redis's own CPU seconds (user + system) and commands served so far, on the stack's client. */
async function redisCounters(stack: Stack): Promise<RedisServerCounters[]> {
  const cpu = await stack.redis.info('cpu');
  const stats = await stack.redis.info('stats');
  const field = (text: string, name: string) =>
    Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1]);
  return [
    {
      port: 0,
      cpuSeconds: field(cpu, 'used_cpu_user') + field(cpu, 'used_cpu_sys'),
      commands: field(stats, 'total_commands_processed'),
      reads: field(stats, 'total_reads_processed'),
      writes: field(stats, 'total_writes_processed'),
      calls: {},
      usec: {},
    },
  ];
}

/**
 * Waits until the pipeline's queues hold no job to do, so that a step does not pay for what the
 * step before it left behind (storing, most often, which lags live delivery by design).
 */
async function waitForIdleQueues(stack: Stack, log: Log): Promise<void> {
  const queues = [QUEUES.callbacks, QUEUES.notifications, QUEUES.persist].flatMap((name) =>
    stack.queues(name),
  );
  const left = async () => {
    let jobs = 0;
    for (const queue of queues) {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      jobs += Object.values(counts).reduce((a, b) => a + b, 0);
    }
    return jobs;
  };
  const started = Date.now();
  let jobs = await left();
  if (jobs > 0) log(`    waiting for ${jobs} queued jobs of the last step to finish`);
  while (jobs > 0 && Date.now() - started < 120_000) {
    await sleep(250);
    jobs = await left();
  }
}

/** CPU ms used so far by each process of the stack, and by this one. */
function processCpuMs(stack: Stack): Record<string, number> {
  const used: Record<string, number> = {};
  for (const [name, running] of stack.processes) used[name] = cpuMsOf(running.child.pid!);
  const own = process.cpuUsage();
  used.bench = (own.user + own.system) / 1000;
  used.postgres = cpuMsOfCommand('postgres');
  return used;
}

/**
 * Webhook to socket, through web, processor, emitter and two realtime nodes: events at each rate
 * for `seconds`, over many streamers, to `watchers` sockets split over both nodes.
 */
export async function benchEndToEnd(options: {
  rates: number[];
  seconds: number;
  holdSeconds: number;
  /** Unmeasured traffic first, so that no step pays for cold JIT and connection pools. */
  warmUp?: { rate: number; seconds: number };
  watchers: number;
  streamers: number;
  /** Where the stack runs (a private Redis, a cluster, QUEUE_SHARDS...); the shared Redis by default. */
  stack?: StackOptions;
  /** The redis-servers to read the counters of (each master of a cluster); else the stack's client's. */
  redisPorts?: number[];
  log: Log;
}): Promise<EndToEndResult> {
  const stack = await startStack(options.stack);
  const probe = options.redisPorts && redisServerProbe(options.redisPorts);
  const readRedis = () => (probe ? probe.read() : redisCounters(stack));
  const streamers = Array.from({ length: options.streamers }, (_, i) => String(20_000 + i));
  // Each watcher watches one streamer; every streamer has the same number of watchers.
  const received = new Map<number, Map<string, number>>();
  const latencies: number[] = [];
  const sentAt = new Map<string, number>();
  try {
    const tokens = createRealtimeTokens(stack.env.SESSION_SECRET!);
    options.log(`  e2e: connecting ${options.watchers} watchers to two realtime nodes`);
    const sockets = await connectMany(
      options.watchers,
      (i) => stack.realtimeUrls[i % 2]!,
      async (i) => ({ token: await tokens.issue(`bench-viewer-${i}`) }),
      async (socket, i) => {
        const counts = new Map<string, number>();
        received.set(i, counts);
        socket.on('event', (event: StreamEvent) => {
          const user = event.actor?.id ?? '';
          counts.set(user, (counts.get(user) ?? 0) + 1);
          const sent = sentAt.get(user);
          if (sent !== undefined) latencies.push(Date.now() - sent);
        });
        const ack = await watch(socket, streamers[i % streamers.length]!);
        if (!ack.ok) throw new Error(`watch refused for watcher ${i}`);
      },
    );
    let firstUser = 1_000_000;
    const runStep = async (rate: number, seconds: number): Promise<EndToEndStep> => {
      await waitForIdleQueues(stack, options.log);
      const count = Math.round(rate * seconds);
      options.log(`  e2e: ${rate} events/s for ${seconds} s (${count} events)`);
      for (const counts of received.values()) counts.clear();
      latencies.length = 0;
      const redisBefore = await readRedis();
      const cpuBefore = processCpuMs(stack);
      sentAt.clear();
      const backlog: number[] = [];
      const sampler = setInterval(() => {
        void Promise.all([
          stack.queue(QUEUES.callbacks).getWaitingCount(),
          stack.queue(QUEUES.notifications).getWaitingCount(),
        ]).then(([callbacks, notifications]) => backlog.push(callbacks + notifications));
      }, 1000);
      const sent = await sendAtRate({ stack, streamers, rate, count, firstUser, sentAt });
      clearInterval(sampler);
      const rssUnderLoadMiB: Record<string, number> = {};
      for (const [name, running] of stack.processes) {
        rssUnderLoadMiB[name] = mib(rssOf(running.child.pid!));
      }
      // Each event goes to the watchers of its streamer.
      const perStreamer = options.watchers / options.streamers;
      const expected = count * perStreamer;
      for (let waited = 0; waited < 30_000 && latencies.length < expected; waited += 100) {
        await sleep(100);
      }
      await sleep(500);
      const redisAfter = await readRedis();
      const redisServers = perEventOf(redisBefore, redisAfter, count);
      const redisCommands = commandCostsOf(redisBefore, redisAfter, count);
      const cpuAfter = processCpuMs(stack);
      const cpuMsPerEvent: Record<string, number> = {};
      for (const [name, ms] of Object.entries(cpuAfter)) {
        cpuMsPerEvent[name] = Math.round(((ms - cpuBefore[name]!) / count) * 1000) / 1000;
      }
      let delivered = 0;
      let duplicated = 0;
      for (const counts of received.values()) {
        for (const times of counts.values()) {
          delivered++;
          duplicated += times - 1;
        }
      }
      const step: EndToEndStep = {
        rate,
        seconds: Math.round(sent.seconds * 10) / 10,
        events: count,
        watchers: options.watchers,
        expectedDeliveries: expected,
        delivered,
        lost: expected - delivered,
        duplicated,
        latencyMs: latencySummary(latencies),
        webhookAnswers: sent.statuses,
        redis: {
          cpuMsPerEvent:
            Math.round(redisServers.reduce((sum, server) => sum + server.cpuMsPerEvent, 0) * 1000) /
            1000,
          commandsPerEvent:
            Math.round(
              redisServers.reduce((sum, server) => sum + server.commandsPerEvent, 0) * 10,
            ) / 10,
        },
        redisServers,
        redisCommands,
        cpuMsPerEvent,
        backlog,
        backlogGrowing: isGrowing(backlog, rate),
        rssUnderLoadMiB,
      };
      const perServer =
        redisServers.length > 1
          ? ` (${redisServers.map((server) => `${server.cpuMsPerEvent} ms, ${Math.round(server.commandShare * 100)}% of commands, ${server.readsPerEvent} reads`).join('; ')})`
          : ` (${redisServers[0]?.commandsPerEvent} commands, ${redisServers[0]?.readsPerEvent} reads)`;
      options.log(
        `    p50 ${step.latencyMs.p50} ms, p99 ${step.latencyMs.p99} ms, lost ${step.lost}, duplicated ${step.duplicated}, backlog ${step.backlogGrowing ? 'growing' : 'steady'}; CPU ms/event ${JSON.stringify(cpuMsPerEvent)}, Redis ${step.redis.cpuMsPerEvent}${perServer}`,
      );
      if (redisCommands.length > 0) {
        options.log(
          `    Redis command time per event: ${redisCommands
            .slice(0, 10)
            .map((cost) => `${cost.command} ${cost.callsPerEvent}x ${cost.usPerEvent} µs`)
            .join(', ')}`,
        );
      }
      firstUser += count;
      return step;
    };
    if (options.warmUp) {
      options.log('  e2e: warming up (not measured)');
      await runStep(options.warmUp.rate, options.warmUp.seconds);
    }
    const steps: EndToEndStep[] = [];
    for (const rate of options.rates) steps.push(await runStep(rate, options.seconds));
    const candidates = steps.filter((s) => s.latencyMs.p99 < 1000 && s.lost === 0);
    const best = candidates.at(-1);
    let hold: EndToEndResult['hold'] = null;
    if (best && options.holdSeconds > 0) {
      options.log(`  e2e: holding ${best.rate} events/s, the highest with p99 under 1 s`);
      const held = await runStep(best.rate, options.holdSeconds);
      hold = {
        ...held,
        held: held.latencyMs.p99 < 1000 && held.lost === 0 && !held.backlogGrowing,
      };
    }
    for (const socket of sockets) socket.disconnect();
    return { steps, hold };
  } finally {
    probe?.close();
    await stack.stop();
  }
}

export interface FanOutResult {
  sockets: number;
  events: number;
  pipeline: { deliveriesPerSecond: number; latencyMs: ReturnType<typeof latencySummary> };
  bare: { deliveriesPerSecond: number; latencyMs: ReturnType<typeof latencySummary> };
  ratio: number;
}

/** Waits until `expected` deliveries arrived (or 60 s); returns deliveries/s from `since`. */
async function drain(counter: { n: number; last: number }, expected: number, since: number) {
  for (let waited = 0; waited < 60_000 && counter.n < expected; waited += 50) await sleep(50);
  return Math.round((counter.n / (counter.last - since)) * 1000);
}

/**
 * One streamer, `sockets` watchers over two realtime nodes, `events` events through the whole
 * pipeline; then a bare Socket.IO server emitting as many events to as many sockets.
 */
export async function benchFanOut(options: {
  sockets: number;
  events: number;
  log: Log;
}): Promise<FanOutResult> {
  const stack = await startStack({
    env: { REALTIME_MAX_CONNECTIONS_PER_USER: '10000' },
  });
  const token = await createRealtimeTokens(stack.env.SESSION_SECRET!).issue('bench-fanout');
  const counter = { n: 0, last: 0 };
  const latencies: number[] = [];
  const sentAt = new Map<string, number>();
  // The first event delivered: the bare server then emits the very same one.
  let sample: StreamEvent | undefined;
  const onEvent = (event: StreamEvent) => {
    sample ??= event;
    counter.n++;
    counter.last = performance.now();
    const sent = sentAt.get(event.actor?.id ?? '');
    if (sent !== undefined) latencies.push(Date.now() - sent);
  };
  let pipeline: FanOutResult['pipeline'];
  try {
    options.log(`  fan-out: connecting ${options.sockets} sockets to two realtime nodes`);
    const sockets = await connectMany(
      options.sockets,
      (i) => stack.realtimeUrls[i % 2]!,
      () => ({ token }),
      async (socket) => {
        socket.on('event', onEvent);
        if (!(await watch(socket, '30000')).ok) throw new Error('watch refused');
      },
      options.log,
    );
    options.log(`  fan-out: ${options.events} events through the pipeline`);
    const started = performance.now();
    await sendAtRate({
      stack,
      streamers: ['30000'],
      rate: 1000,
      count: options.events,
      firstUser: 3_000_000,
      sentAt,
    });
    const perSecond = await drain(counter, options.sockets * options.events, started);
    pipeline = { deliveriesPerSecond: perSecond, latencyMs: latencySummary(latencies) };
    for (const socket of sockets) socket.disconnect();
  } finally {
    await stack.stop();
  }

  const bare = await startYardstick('bench/bare-socketio-server.ts');
  try {
    counter.n = 0;
    latencies.length = 0;
    options.log(`  fan-out: connecting ${options.sockets} sockets to a bare Socket.IO server`);
    const sockets = await connectMany(
      options.sockets,
      () => `http://127.0.0.1:${bare.port}`,
      () => ({}),
      (socket) => {
        socket.on('event', () => {
          counter.n++;
          counter.last = performance.now();
          latencies.push(Date.now() - askedAt);
        });
      },
      options.log,
    );
    const started = performance.now();
    const askedAt = Date.now();
    await fetch(`http://127.0.0.1:${bare.port}/emit?count=${options.events}`, {
      method: 'POST',
      body: JSON.stringify(sample ?? {}),
    });
    const perSecond = await drain(counter, options.sockets * options.events, started);
    for (const socket of sockets) socket.disconnect();
    const bareResult = { deliveriesPerSecond: perSecond, latencyMs: latencySummary(latencies) };
    return {
      sockets: options.sockets,
      events: options.events,
      pipeline,
      bare: bareResult,
      ratio:
        Math.round((pipeline.deliveriesPerSecond / bareResult.deliveriesPerSecond) * 100) / 100,
    };
  } finally {
    bare.stop();
  }
}

export interface MemoryResult {
  sockets: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  bytesPerSocket: number;
  rssAtRestMiB: Record<string, number>;
}

/** RSS of each process type at rest, and what each idle watching socket adds to a realtime node. */
export async function benchMemory(options: { sockets: number; log: Log }): Promise<MemoryResult> {
  const stack = await startStack({
    env: { REALTIME_MAX_CONNECTIONS_PER_USER: '10000' },
  });
  try {
    await sleep(2000);
    const rssAtRest: Record<string, number> = {};
    for (const [name, running] of stack.processes) rssAtRest[name] = mib(rssOf(running.child.pid!));
    const node = stack.processes.get('realtime1')!.child.pid!;
    const before = rssOf(node);
    const token = await createRealtimeTokens(stack.env.SESSION_SECRET!).issue('bench-memory');
    options.log(`  memory: ${options.sockets} idle sockets, each watching one of 100 streamers`);
    const sockets = await connectMany(
      options.sockets,
      () => stack.realtimeUrls[0]!,
      () => ({ token }),
      async (socket, i) => {
        if (!(await watch(socket, String(40_000 + (i % 100)))).ok) throw new Error('watch refused');
      },
      options.log,
    );
    await sleep(3000);
    const after = rssOf(node);
    for (const socket of sockets) socket.disconnect();
    return {
      sockets: options.sockets,
      rssBeforeMiB: mib(before),
      rssAfterMiB: mib(after),
      bytesPerSocket: Math.round((after - before) / options.sockets),
      rssAtRestMiB: rssAtRest,
    };
  } finally {
    await stack.stop();
  }
}
