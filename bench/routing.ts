/**
 * What a realtime node spends on events by how many of their streamers it watches (#13):
 *
 *   node --import tsx bench/routing.ts [--rate 800] [--seconds 15] [--streamers 300]
 *
 * One stack, two realtime nodes, the same stream of follows spread over the streamers, in three
 * phases: nobody watching (the nodes' own idle cost), realtime1 watching none and realtime2
 * watching all, then realtime1 watching half. Prints each node's CPU per event in each phase,
 * with the idle phase's cost per second taken off.
 */
import { parseArgs } from 'node:util';
import { startStack, EVENTSUB_SECRET, type Stack, type Watcher } from '../test/helpers/stack.js';
import { followPayload } from '../test/helpers/twitch.js';
import { sendLikeTwitch } from '../test/helpers/twitch-sender.js';
import { cpuMsOf } from './child.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '800' },
    seconds: { type: 'string', default: '15' },
    streamers: { type: 'string', default: '300' },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const streamerCount = Number(values.streamers);
const streamers = Array.from({ length: streamerCount }, (_, i) => String(50_000 + i));
const log = (line: string) => process.stdout.write(`${line}\n`);

const cpuOf = (stack: Stack) => ({
  realtime1: cpuMsOf(stack.processes.get('realtime1')!.child.pid!),
  realtime2: cpuMsOf(stack.processes.get('realtime2')!.child.pid!),
});

async function watchAll(watcher: Watcher, ids: string[]) {
  for (const id of ids) {
    const ack = await watcher.watch(id);
    if (!ack.ok) throw new Error(`watch ${id}: ${ack.error}`);
  }
}

/** Sends `rate` follows a second for `seconds`, round robin over the streamers. */
async function stream(stack: Stack, tag: string) {
  const total = rate * seconds;
  const report = await sendLikeTwitch({
    webhookUrl: stack.webhookUrl,
    secret: EVENTSUB_SECRET,
    payloads: Array.from({ length: total }, (_, i) =>
      followPayload(streamers[i % streamers.length]!, `${tag}${i}`),
    ),
    concurrency: 32,
    ratePerSecond: rate,
  });
  if (report.acknowledged !== total) throw new Error(`${tag}: ${report.acknowledged} of ${total}`);
  // Let the pipeline finish what is in flight before the reading.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return total;
}

const stack = await startStack({
  env: { REALTIME_MAX_WATCHES_PER_CONNECTION: String(streamerCount) },
});
try {
  log(`routing: ${rate} events/s for ${seconds} s over ${streamerCount} streamers`);
  const quietStart = cpuOf(stack);
  const quietStarted = performance.now();
  await new Promise((resolve) => setTimeout(resolve, (seconds + 1.5) * 1000));
  const quietEnd = cpuOf(stack);
  const quietSeconds = (performance.now() - quietStarted) / 1000;
  const idlePerSecond = {
    realtime1: (quietEnd.realtime1 - quietStart.realtime1) / quietSeconds,
    realtime2: (quietEnd.realtime2 - quietStart.realtime2) / quietSeconds,
  };

  const phase = async (name: string, tag: string) => {
    const before = cpuOf(stack);
    const started = performance.now();
    const events = await stream(stack, tag);
    const elapsed = (performance.now() - started) / 1000;
    const after = cpuOf(stack);
    const perEvent = (node: 'realtime1' | 'realtime2') =>
      (((after[node] - before[node] - idlePerSecond[node] * elapsed) * 1000) / events).toFixed(1);
    const figures = { realtime1: perEvent('realtime1'), realtime2: perEvent('realtime2') };
    log(
      `  ${name}: realtime1 ${figures.realtime1} µs/event, realtime2 ${figures.realtime2} µs/event`,
    );
    return figures;
  };

  const all = await stack.watcher(1, 'bench-all');
  await watchAll(all, streamers);
  const idle = await phase('realtime1 watches none, realtime2 all', 'a');
  const half = await stack.watcher(0, 'bench-half');
  await watchAll(half, streamers.slice(0, streamerCount / 2));
  const halfPhase = await phase('realtime1 watches half, realtime2 all', 'b');
  log(
    `  idle node ${idle.realtime1} µs/event; half/all ${(Number(halfPhase.realtime1) / Number(halfPhase.realtime2)).toFixed(2)}` +
      ` (idle cost taken off: ${idlePerSecond.realtime1.toFixed(1)} and ${idlePerSecond.realtime2.toFixed(1)} ms/s)`,
  );
} finally {
  await stack.stop();
}
