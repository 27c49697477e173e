/**
 * What a realtime node spends on events by how many of their streamers it watches (#13):
 *
 *   node --import tsx bench/routing.ts [--rates 300,900] [--seconds 12] [--streamers 300]
 *                                      [--topology single,cluster] [--rounds 1]
 *
 * Per topology (a redis-server of its own, or a 3-master cluster of its own, so that the shared
 * 6379 is not measured): one stack, two realtime nodes, the same stream of follows round robin
 * over the streamers, in phases: nobody watching (each node's own cost per second, taken off
 * what follows), both watching all (a warm-up, not measured), realtime1 watching none and
 * realtime2 all, realtime1 half and realtime2 all.
 * Each phase runs at every rate, so that a node's CPU splits into a part per event (the slope
 * over the rates) and a part that does not follow the rate. It also counts each node's wakeups
 * (its main thread's context switches) and the feed messages published (PUBLISH or SPUBLISH:
 * one per streamer per emitter batch), to tell a cost per delivery from one per read.
 */
import { parseArgs } from 'node:util';
import { startStack, EVENTSUB_SECRET, type Stack, type Watcher } from '../test/helpers/stack.js';
import { startPrivateRedis } from '../test/helpers/private-redis.js';
import { startRedisCluster } from '../test/helpers/redis-cluster.js';
import { followPayload } from '../test/helpers/twitch.js';
import { sendLikeTwitch } from '../test/helpers/twitch-sender.js';
import { redisServerProbe } from './redis-servers.js';
import { cpuMsOf, wakeupsOf } from './process-cpu.js';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '300,900' },
    seconds: { type: 'string', default: '12' },
    streamers: { type: 'string', default: '300' },
    topology: { type: 'string', default: 'single,cluster' },
    rounds: { type: 'string', default: '1' },
  },
});
const rates = values.rates.split(',').map(Number);
const seconds = Number(values.seconds);
const streamerCount = Number(values.streamers);
const streamers = Array.from({ length: streamerCount }, (_, i) => String(50_000 + i));
const NODES = ['realtime1', 'realtime2'] as const;
type Node = (typeof NODES)[number];
const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Reading {
  at: number;
  cpuMs: Record<Node, number>;
  /** The main thread's part: the event loop, as against V8's and libuv's helper threads. */
  mainCpuMs: Record<Node, number>;
  wakeups: Record<Node, number>;
  deliveries: Record<Node, number>;
  published: number;
}

async function watchAll(watcher: Watcher, ids: string[]) {
  for (const id of ids) {
    const ack = await watcher.watch(id);
    if (!ack.ok) throw new Error(`watch ${id}: ${ack.error}`);
  }
}

/** Sends `rate` follows a second for `seconds`, round robin over the streamers. */
async function stream(stack: Stack, rate: number, tag: string) {
  const total = rate * seconds;
  const report = await sendLikeTwitch({
    webhookUrl: stack.webhookUrl,
    secret: EVENTSUB_SECRET,
    payloads: Array.from({ length: total }, (_, i) =>
      followPayload(streamers[i % streamers.length]!, `${tag}${i}`),
    ),
    // Enough in flight that the stack's answer time does not cap the rate (32 held it to
    // 226-422/s here when 900/s was asked).
    concurrency: 256,
    ratePerSecond: rate,
  });
  if (report.acknowledged !== total) throw new Error(`${tag}: ${report.acknowledged} of ${total}`);
  return total;
}

/** Waits (30 s at most) until every watcher has what it watches of `events` more, and 0.5 s. */
async function settle(expected: Array<{ watcher: Watcher; count: number }>) {
  for (let waited = 0; waited < 30_000; waited += 100) {
    if (expected.every(({ watcher, count }) => watcher.received.length >= count)) break;
    await sleep(100);
  }
  await sleep(500);
}

async function runTopology(topology: string, round: number) {
  const single = topology === 'single' ? await startPrivateRedis({ appendOnly: false }) : null;
  const cluster = topology === 'cluster' ? await startRedisCluster({ masters: 3 }) : null;
  const ports = single ? [single.port] : (await cluster!.masters()).map((m) => m.port);
  const stack = await startStack({
    ...(single ? { redisUrl: single.url } : { cluster: cluster! }),
    env: { REALTIME_MAX_WATCHES_PER_CONNECTION: String(streamerCount) },
  });
  const probe = redisServerProbe(ports);
  const watchers: Partial<Record<Node, Watcher>> = {};
  const read = async (): Promise<Reading> => {
    const servers = await probe.read();
    const per = (of: (node: Node) => number) =>
      Object.fromEntries(NODES.map((node) => [node, of(node)])) as Record<Node, number>;
    const pid = (node: Node) => stack.processes.get(node)!.child.pid!;
    return {
      at: performance.now(),
      cpuMs: per((node) => cpuMsOf(pid(node))),
      mainCpuMs: per((node) => cpuMsOf(pid(node), 'main')),
      wakeups: per((node) => wakeupsOf(pid(node))),
      deliveries: per((node) => watchers[node]?.received.length ?? 0),
      published: servers.reduce(
        (sum, s) => sum + (s.calls.publish ?? 0) + (s.calls.spublish ?? 0),
        0,
      ),
    };
  };
  try {
    log(
      `routing (${topology}, round ${round}): ${streamerCount} streamers, rates ${rates.join(', ')}/s, ${seconds} s each`,
    );
    const quietStart = await read();
    await sleep((seconds + 1.5) * 1000);
    const quietEnd = await read();
    const quietSeconds = (quietEnd.at - quietStart.at) / 1000;
    const idle = Object.fromEntries(
      NODES.map((node) => [node, (quietEnd.cpuMs[node] - quietStart.cpuMs[node]) / quietSeconds]),
    ) as Record<Node, number>;
    const idleMain = Object.fromEntries(
      NODES.map((node) => [
        node,
        (quietEnd.mainCpuMs[node] - quietStart.mainCpuMs[node]) / quietSeconds,
      ]),
    ) as Record<Node, number>;
    const idleWakeups = Object.fromEntries(
      NODES.map((node) => [
        node,
        (quietEnd.wakeups[node] - quietStart.wakeups[node]) / quietSeconds,
      ]),
    ) as Record<Node, number>;
    log(
      `  idle: ${NODES.map((n) => `${n} ${idle[n].toFixed(1)} ms/s, ${idleWakeups[n].toFixed(0)} wakeups/s`).join('; ')}`,
    );

    const phases: unknown[] = [];
    const phase = async (name: string, tag: string) => {
      const steps = [];
      for (const rate of rates) {
        const before = await read();
        const events = await stream(stack, rate, `${tag}${rate}-`);
        // realtime2's watcher has every streamer; realtime1's none or the first half.
        await settle(
          NODES.flatMap((n) => {
            const watcher = watchers[n];
            const share = n === 'realtime2' ? 1 : 0.5;
            return watcher ? [{ watcher, count: before.deliveries[n] + events * share }] : [];
          }),
        );
        const after = await read();
        const elapsed = (after.at - before.at) / 1000;
        const node = (n: Node) => {
          const cpuMs = after.cpuMs[n] - before.cpuMs[n] - idle[n] * elapsed;
          const mainCpuMs = after.mainCpuMs[n] - before.mainCpuMs[n] - idleMain[n] * elapsed;
          const wakeups = after.wakeups[n] - before.wakeups[n] - idleWakeups[n] * elapsed;
          return {
            usPerEvent: (cpuMs * 1000) / events,
            mainUsPerEvent: (mainCpuMs * 1000) / events,
            msPerSecond: cpuMs / elapsed,
            deliveries: after.deliveries[n] - before.deliveries[n],
            wakeupsPerEvent: wakeups / events,
            usPerWakeup: wakeups > 0 ? (cpuMs * 1000) / wakeups : 0,
          };
        };
        const published = after.published - before.published;
        const step = {
          rate,
          events,
          seconds: elapsed,
          publishedPerEvent: published / events,
          realtime1: node('realtime1'),
          realtime2: node('realtime2'),
        };
        log(
          `  ${name} at ${rate}/s (${(events / elapsed).toFixed(0)}/s sent and delivered): ` +
            NODES.map(
              (n) =>
                `${n} ${step[n].usPerEvent.toFixed(1)} µs/event (main thread ${step[n].mainUsPerEvent.toFixed(1)}; ${step[n].msPerSecond.toFixed(1)} ms/s, ${step[n].deliveries} deliveries, ${step[n].wakeupsPerEvent.toFixed(2)} wakeups/event, ${step[n].usPerWakeup.toFixed(0)} µs/wakeup)`,
            ).join('; ') +
            `; ${step.publishedPerEvent.toFixed(2)} feed messages published per event`,
        );
        steps.push(step);
      }
      // The slope of CPU per second over the rates: what one more event costs the node.
      const [low, high] = [steps[0]!, steps.at(-1)!];
      const slope = (n: Node) =>
        ((high[n].msPerSecond - low[n].msPerSecond) * 1000) / (high.rate - low.rate);
      const fixed = (n: Node) => low[n].msPerSecond - (slope(n) * low.rate) / 1000;
      log(
        `  ${name}, over the rates: ` +
          NODES.map(
            (n) =>
              `${n} ${slope(n).toFixed(1)} µs per extra event + ${fixed(n).toFixed(1)} ms/s that does not follow the rate`,
          ).join('; '),
      );
      phases.push({
        name,
        steps,
        slopeUsPerEvent: { realtime1: slope('realtime1'), realtime2: slope('realtime2') },
      });
      return { steps, slope };
    };

    // Both nodes deliver first, unmeasured: a node's first deliveries pay for V8 compiling the
    // delivery path and for growing its heap, hundreds of ms once, which would count against
    // whichever phase came first for it (the half node, in the first version of this bench).
    watchers.realtime2 = await stack.watcher(1, 'bench-all');
    await watchAll(watchers.realtime2, streamers);
    const warmUp = await stack.watcher(0, 'bench-warm-up');
    await watchAll(warmUp, streamers);
    log(`  warming both nodes up (not measured)`);
    const warmUpEvents = await stream(stack, rates.at(-1)!, 'w');
    await settle([{ watcher: warmUp, count: warmUpEvents }]);
    warmUp.socket.disconnect();
    await sleep(1000);
    const none = await phase('realtime1 none, realtime2 all', 'a');
    watchers.realtime1 = await stack.watcher(0, 'bench-half');
    await watchAll(watchers.realtime1, streamers.slice(0, streamerCount / 2));
    const half = await phase('realtime1 half, realtime2 all', 'b');
    log(
      `  => idle node ${none.steps.map((s) => `${s.realtime1.usPerEvent.toFixed(1)} µs/event at ${s.rate}/s`).join(', ')}; ` +
        `half/all ${half.steps.map((s) => `${(s.realtime1.usPerEvent / s.realtime2.usPerEvent).toFixed(2)} at ${s.rate}/s`).join(', ')}, ` +
        `per extra event ${(half.slope('realtime1') / half.slope('realtime2')).toFixed(2)}`,
    );
    return { topology, round, idleMsPerSecond: idle, idleWakeupsPerSecond: idleWakeups, phases };
  } finally {
    probe.close();
    await stack.stop();
    await single?.destroy();
    await cluster?.stop();
  }
}

const results = [];
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const topology of values.topology.split(',')) {
    results.push(await runTopology(topology, round));
  }
}
log(JSON.stringify({ at: new Date().toISOString(), rates, seconds, streamerCount, results }));
process.exit(0);
