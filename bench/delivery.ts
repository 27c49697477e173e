/**
 * What a realtime node spends per event by how many of the streamers it watches, driven far
 * harder than the pipeline on this box can drive it (#13): `npm run bench -- --only delivery`
 * [--delivery-rates 1000,2000,4000,8000] [--seconds 8] [--events-per-message 1] [--one-socket]
 * [--publish-every-ms 5] [--rounds N].
 *
 * Only the two realtime nodes run. The bench publishes feed messages itself, as an emitter does
 * (feed-publisher.ts: PUBLISH, or SPUBLISH on a cluster, to each streamer's channel), with every
 * streamer's seq running on without a gap, so no node ever fills a gap from the cache. So the
 * rates reach thousands of events a second, where bench/routing.ts, through web, the processor
 * and the emitter, tops out at about 600 events/s here.
 *
 * Each watched streamer has a viewer socket of its own on the node, as event pages do
 * (`oneSocket`: one socket watches them all, as bench/routing.ts has it). Phases, each at every
 * rate: realtime1 none and realtime2 all; realtime1 half and realtime2 all; realtime1 all and
 * realtime2 half (the swap cancels what differs between the two nodes). Each node's CPU per
 * second over its rest is fitted against the rate: the slope is what one more event costs the
 * node, the figure that sizes a node, since the part that does not follow the rate is paid once
 * per node whatever it watches.
 */
import { Cluster, Redis } from 'ioredis';
import { startStack, type Stack, type Watcher } from '../test/helpers/stack.js';
import { startPrivateRedis } from '../test/helpers/private-redis.js';
import { startRedisCluster } from '../test/helpers/redis-cluster.js';
import { createFeedPublisher } from '../src/workers/feed-publisher.js';
import { feedKeys } from '../src/shared/feed/feed-keys.js';
import type { NotifyEventJob } from '../src/shared/queues.js';
import type { RedisClient } from '../src/shared/connections/redis.js';
import { redisServerProbe } from './redis-servers.js';
import { cpuMsOf, fitLine, wakeupsOf } from './process-cpu.js';
import { median } from './store-inserts.js';

const NODES = ['realtime1', 'realtime2'] as const;
type Node = (typeof NODES)[number];
type Share = 'none' | 'half' | 'all';
interface NodeStep {
  /** Over the node's CPU at rest. */
  cpuMsPerSecond: number;
  usPerEvent: number;
  /** The main thread's part of the node's CPU: the event loop, not V8's helper threads. */
  mainShare: number;
  wakeupsPerSecond: number;
  deliveries: number;
}
interface Step extends Record<Node, NodeStep> {
  rate: number;
  /** Events published in the step. */
  events: number;
  sentPerSecond: number;
  /** The rate over the whole step, settling included: what the CPU per second is over. */
  perSecond: number;
  redisUsPerEvent: number;
  /** Nodes that had not delivered everything they watch within 30 s. */
  short: Node[];
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A follow as the processor would publish it; the id is unique per event. */
function followEvent(broadcasterId: string, n: number): NotifyEventJob['event'] {
  return {
    id: `ev_bench_${broadcasterId}_${n}`,
    type: 'channel.follow',
    broadcasterId,
    broadcasterLogin: `streamer${broadcasterId}`,
    broadcasterName: `Streamer${broadcasterId}`,
    occurredAt: new Date().toISOString(),
    actor: { id: String(900_000 + n), login: `viewer${n}`, name: `Viewer${n}` },
    summary: `Viewer${n} followed`,
    data: { followedAt: new Date().toISOString() },
  };
}

/** Counts what watcher sockets receive, instead of keeping it (millions of events). */
function countInto(counter: { count: number }, watcher: Watcher) {
  watcher.socket.off('event');
  watcher.socket.on('event', () => counter.count++);
}

export interface DeliveryOptions {
  rates: number[];
  seconds: number;
  streamers: number;
  /** Events of one streamer per feed message (an emitter batch holds one or several). */
  perMessage: number;
  oneSocket: boolean;
  /**
   * How often the bench publishes what is due: each time is a batch, as one emitter job is, so
   * it sets how often a node can be woken (a fleet of emitters publishes more often).
   */
  publishEveryMs: number;
  rounds: number;
  log: (line: string) => void;
}

export type DeliveryResult = Awaited<ReturnType<typeof benchDelivery>>;

export async function benchDelivery(options: DeliveryOptions) {
  const { rates, seconds, perMessage, log } = options;
  const streamerCount = options.streamers;
  const streamers = Array.from({ length: streamerCount }, (_, i) => String(60_000 + i));
  /** A node watching half watches the first `half` streamers. */
  const half = Math.floor(streamerCount / 2);

  /** The feed messages of every streamer, seq after seq, at `rate` events a second. */
  function createFeed(publisherRedis: RedisClient, prefix: string) {
    const publisher = createFeedPublisher(publisherRedis, prefix);
    const seqs = new Map(streamers.map((id) => [id, 0]));
    let next = 0;
    return {
      /** Sets each streamer's feed seq to where the bench is: a node that joins starts there. */
      async align() {
        await Promise.all(
          streamers.map((id) => publisherRedis.set(feedKeys(prefix, id).seq, String(seqs.get(id)))),
        );
      },
      /** Publishes `rate` events a second for `seconds`, round robin, `perMessage` per message. */
      async stream(rate: number) {
        const total = Math.round(rate * seconds);
        const started = performance.now();
        let sent = 0;
        /** Events of the first half of the streamers: what a node watching half receives. */
        let toFirstHalf = 0;
        const inFlight: Promise<void>[] = [];
        while (sent < total) {
          const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
          const batch: NotifyEventJob[] = [];
          while (sent < due) {
            const index = next % streamers.length;
            const id = streamers[index]!;
            next++;
            for (let k = 0; k < perMessage && sent < due; k++, sent++) {
              if (index < half) toFirstHalf++;
              const seq = seqs.get(id)! + 1;
              seqs.set(id, seq);
              batch.push({ broadcasterId: id, seq, event: followEvent(id, seq) });
            }
          }
          // One publish per streamer of the batch, as the emitter does.
          if (batch.length > 0) inFlight.push(publisher.publish(batch));
          if (inFlight.length > 50) await Promise.all(inFlight.splice(0));
          await sleep(options.publishEveryMs);
        }
        await Promise.all(inFlight);
        return { events: total, toFirstHalf, seconds: (performance.now() - started) / 1000 };
      },
    };
  }

  async function runTopology(topology: string, round: number) {
    const single = topology === 'single' ? await startPrivateRedis({ appendOnly: false }) : null;
    const cluster = topology === 'cluster' ? await startRedisCluster({ masters: 3 }) : null;
    const ports = single ? [single.port] : (await cluster!.masters()).map((m) => m.port);
    const stack: Stack = await startStack({
      ...(single ? { redisUrl: single.url } : { cluster: cluster! }),
      without: ['web', 'processor', 'emitter'],
      env: { REALTIME_MAX_WATCHES_PER_CONNECTION: String(streamerCount) },
    }).catch(async (error: unknown) => {
      await single?.destroy();
      await cluster?.stop();
      throw error;
    });
    // Its own connection, pipelining automatically as the emitter's many concurrent jobs do.
    const publisherRedis: RedisClient = single
      ? new Redis(single.url, { enableAutoPipelining: true })
      : new Cluster(
          ports.map((port) => ({ host: '127.0.0.1', port })),
          { enableAutoPipelining: true },
        );
    const feed = createFeed(publisherRedis, stack.prefix);
    const probe = redisServerProbe(ports);
    const pid = (node: Node) => stack.processes.get(node)!.child.pid!;
    const counters: Record<Node, { count: number } | null> = { realtime1: null, realtime2: null };
    const sockets: Watcher[] = [];
    const read = async () => {
      const servers = await probe.read();
      const per = (of: (node: Node) => number) =>
        Object.fromEntries(NODES.map((node) => [node, of(node)])) as Record<Node, number>;
      return {
        at: performance.now(),
        cpuMs: per((node) => cpuMsOf(pid(node))),
        mainCpuMs: per((node) => cpuMsOf(pid(node), 'main')),
        wakeups: per((node) => wakeupsOf(pid(node))),
        deliveries: per((node) => counters[node]?.count ?? 0),
        redisCpuMs: servers.reduce((sum, s) => sum + s.cpuSeconds * 1000, 0),
      };
    };
    type Reading = Awaited<ReturnType<typeof read>>;
    const perSecond = (a: Reading, b: Reading, of: (r: Reading) => number) =>
      (of(b) - of(a)) / ((b.at - a.at) / 1000);

    /** Fresh watcher sockets: each node watches none, half or all of the streamers. */
    async function watch(shares: Record<Node, Share>) {
      for (const socket of sockets.splice(0)) socket.socket.disconnect();
      await sleep(500); // the nodes release the feeds and unsubscribe
      await feed.align();
      for (const [index, node] of NODES.entries()) {
        counters[node] = null;
        const share = shares[node];
        if (share === 'none') continue;
        const counter = { count: 0 };
        counters[node] = counter;
        const ids = share === 'all' ? streamers : streamers.slice(0, half);
        // A viewer per streamer (as the event page has), or one socket watching them all.
        const groups = options.oneSocket ? [ids] : ids.map((id) => [id]);
        for (let at = 0; at < groups.length; at += 50) {
          await Promise.all(
            groups.slice(at, at + 50).map(async (group, i) => {
              const watcher = await stack.watcher(index, `bench-${node}-${at + i}`);
              sockets.push(watcher);
              countInto(counter, watcher);
              for (const id of group) {
                const ack = await watcher.watch(id);
                if (!ack.ok) throw new Error(`watch ${id} on ${node}: ${ack.error}`);
              }
            }),
          );
        }
      }
    }

    /** Waits (30 s at most) until each watching node has delivered what it watches, then 0.5 s. */
    async function settle(
      before: Reading,
      { events, toFirstHalf }: { events: number; toFirstHalf: number },
      shares: Record<Node, Share>,
    ) {
      const expected = (node: Node) =>
        before.deliveries[node] +
        (shares[node] === 'all' ? events : shares[node] === 'half' ? toFirstHalf : 0);
      for (let waited = 0; waited < 30_000; waited += 50) {
        if (NODES.every((node) => (counters[node]?.count ?? 0) >= expected(node))) break;
        await sleep(50);
      }
      await sleep(500);
      return NODES.filter((node) => (counters[node]?.count ?? 0) < expected(node));
    }

    try {
      log(
        `delivery (${topology}, round ${round}): ${streamerCount} streamers, ${perMessage} event(s) per message, published every ${options.publishEveryMs} ms, rates ${rates.join(', ')}/s, ${seconds} s each`,
      );
      // Both nodes deliver first, unmeasured: a node's first deliveries pay for V8 compiling the
      // delivery path and for growing its heap. Their rest is measured after it, with nothing
      // watched, so that start-up work does not count as rest.
      await watch({ realtime1: 'all', realtime2: 'all' });
      log('  warming both nodes up (not measured)');
      await feed.stream(rates.at(-1)!);
      await watch({ realtime1: 'none', realtime2: 'none' });
      await sleep(1000);
      const restStart = await read();
      await sleep(seconds * 1000);
      const restEnd = await read();
      const rest = Object.fromEntries(
        NODES.map((n) => [n, perSecond(restStart, restEnd, (r) => r.cpuMs[n])]),
      ) as Record<Node, number>;
      const restRedis = perSecond(restStart, restEnd, (r) => r.redisCpuMs);
      log(
        `  at rest: ${NODES.map((n) => `${n} ${rest[n].toFixed(1)} ms/s`).join(', ')}; Redis ${restRedis.toFixed(1)} ms/s`,
      );

      const phases = [];
      const plan: Array<Record<Node, Share>> = [
        { realtime1: 'none', realtime2: 'all' },
        { realtime1: 'half', realtime2: 'all' },
        { realtime1: 'all', realtime2: 'half' },
      ];
      for (const shares of plan) {
        await watch(shares);
        const name = NODES.map((n) => `${n} ${shares[n]}`).join(', ');
        const steps: Step[] = [];
        for (const rate of rates) {
          const before = await read();
          const sent = await feed.stream(rate);
          const { events, seconds: sentSeconds } = sent;
          const short = await settle(before, sent, shares);
          const after = await read();
          const elapsed = (after.at - before.at) / 1000;
          const node = (n: Node): NodeStep => {
            const cpuMsPerSecond = perSecond(before, after, (r) => r.cpuMs[n]) - rest[n];
            return {
              cpuMsPerSecond,
              usPerEvent: (cpuMsPerSecond * elapsed * 1000) / events,
              mainShare:
                (after.mainCpuMs[n] - before.mainCpuMs[n]) / (after.cpuMs[n] - before.cpuMs[n]),
              wakeupsPerSecond: perSecond(before, after, (r) => r.wakeups[n]),
              deliveries: after.deliveries[n] - before.deliveries[n],
            };
          };
          const step: Step = {
            rate,
            events,
            sentPerSecond: events / sentSeconds,
            perSecond: events / elapsed,
            realtime1: node('realtime1'),
            realtime2: node('realtime2'),
            redisUsPerEvent:
              ((perSecond(before, after, (r) => r.redisCpuMs) - restRedis) * elapsed * 1000) /
              events,
            short,
          };
          log(
            `  ${name} at ${rate}/s (${step.sentPerSecond.toFixed(0)}/s sent): ` +
              NODES.map(
                (n) =>
                  `${n} ${step[n].usPerEvent.toFixed(1)} µs/event, ${step[n].cpuMsPerSecond.toFixed(0)} ms/s, ${step[n].wakeupsPerSecond.toFixed(0)} wakeups/s, main thread ${(step[n].mainShare * 100).toFixed(0)}%, ${step[n].deliveries} delivered`,
              ).join('; ') +
              `; Redis ${step.redisUsPerEvent.toFixed(1)} µs/event` +
              (short.length ? `; SHORT: ${short.join(', ')} did not deliver everything` : ''),
          );
          steps.push(step);
        }
        const fits = Object.fromEntries(
          NODES.map((n) => [
            n,
            fitLine(steps.map((s) => ({ x: s.perSecond, y: s[n].cpuMsPerSecond * 1000 }))),
          ]),
        ) as Record<Node, { slope: number; intercept: number }>;
        log(
          `  ${name}, fitted over the rates: ` +
            NODES.map(
              (n) =>
                `${n} ${fits[n].slope.toFixed(1)} µs per event + ${(fits[n].intercept / 1000).toFixed(1)} ms/s`,
            ).join('; '),
        );
        phases.push({ shares, steps, fits });
      }
      const [none, half, swapped] = phases as [
        (typeof phases)[0],
        (typeof phases)[0],
        (typeof phases)[0],
      ];
      const halfOverAll = [
        half.fits.realtime1.slope / half.fits.realtime2.slope,
        swapped.fits.realtime2.slope / swapped.fits.realtime1.slope,
      ];
      log(
        `  => idle node ${none.steps.map((s) => `${s.realtime1.usPerEvent.toFixed(2)}`).join(', ')} µs/event; ` +
          `half / all per event (slopes) ${halfOverAll.map((r) => r.toFixed(2)).join(' and ')}; ` +
          `per step ${[...half.steps.map((s) => s.realtime1.usPerEvent / s.realtime2.usPerEvent), ...swapped.steps.map((s) => s.realtime2.usPerEvent / s.realtime1.usPerEvent)].map((r) => r.toFixed(2)).join(', ')}`,
      );
      return { topology, round, restMsPerSecond: rest, phases, halfOverAll };
    } finally {
      probe.close();
      publisherRedis.disconnect();
      await stack.stop();
      await single?.destroy();
      await cluster?.stop();
    }
  }

  const results = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const topology of ['single', 'cluster']) results.push(await runTopology(topology, round));
  }
  return {
    rates,
    seconds,
    streamerCount,
    perMessage,
    oneSocket: options.oneSocket,
    publishEveryMs: options.publishEveryMs,
    results,
  };
}

/** The summary lines: per topology, the idle node and half / all, medians over the rounds. */
export function deliverySummary(result: DeliveryResult): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  for (const topology of ['single', 'cluster']) {
    const runs = result.results.filter((run) => run.topology === topology);
    const idle = runs.flatMap((run) => run.phases[0]!.steps.map((s) => s.realtime1.usPerEvent));
    const all = runs.flatMap((run) => [
      run.phases[1]!.fits.realtime2,
      run.phases[2]!.fits.realtime1,
    ]);
    rows.push(
      [
        `delivery ${topology}: idle node`,
        `${median(idle).toFixed(2)} µs/event (median of ${idle.length} steps; target < 5)`,
      ],
      [
        `delivery ${topology}: half / all per event`,
        `${median(runs.flatMap((run) => run.halfOverAll)).toFixed(2)} (slopes, median of ${runs.length * 2}; target about 0.5); a node watching all: ${median(all.map((f) => f.slope)).toFixed(1)} µs per event + ${median(all.map((f) => f.intercept / 1000)).toFixed(1)} ms/s`,
      ],
    );
  }
  return rows;
}
