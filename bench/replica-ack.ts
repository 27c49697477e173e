/**
 * What REDIS_ACK_REPLICAS=1 costs a webhook: two `web` nodes on one Redis master with a replica,
 * one waiting for the replica (WAIT) before its 202 and one not, loaded in turns in the same run.
 *
 *   node --import tsx bench/replica-ack.ts [--seconds 5] [--rounds 3]
 *
 * Prints each turn, then the medians over the rounds, with one connection (the latency a
 * webhook pays) and with 16 (what a node takes).
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startStack } from '../test/helpers/stack.js';
import { startPrivateRedis } from '../test/helpers/private-redis.js';
import { runLoad, type LoadResult } from './load.js';
import { webhook } from './intake.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' } },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

const master = await startPrivateRedis({ appendfsync: 'everysec' });
const replica = await startPrivateRedis({
  appendfsync: 'everysec',
  args: ['--replicaof', '127.0.0.1', String(master.port)],
});
const probe = new Redis(replica.url);
while (!/master_link_status:up/.test(await probe.info('replication'))) {
  await new Promise((resolve) => setTimeout(resolve, 100));
}
probe.disconnect();
const stack = await startStack({
  redisUrl: master.url,
  without: ['processor', 'emitter', 'realtime'],
});
try {
  const ports = {
    0: stack.portOf('web'),
    1: await stack
      .startWebNode('web-ack', { REDIS_ACK_REPLICAS: '1' })
      .then((url) => Number(new URL(url).port)),
  };
  const results: Record<string, LoadResult[]> = {};
  for (let round = 1; round <= rounds; round++) {
    for (const connections of [1, 16]) {
      for (const ack of [0, 1] as const) {
        const result = await runLoad({ port: ports[ack], connections, seconds, next: webhook });
        const key = `ack=${ack} connections=${connections}`;
        (results[key] ??= []).push(result);
        const statuses = JSON.stringify(result.statuses);
        process.stdout.write(
          `round ${round} ${key}: ${result.perSecond.toFixed(0)}/s, p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms ${statuses}\n`,
        );
      }
    }
  }
  process.stdout.write(`\nmedians over ${rounds} rounds of ${seconds} s:\n`);
  for (const connections of [1, 16]) {
    const of = (ack: number) => results[`ack=${ack} connections=${connections}`]!;
    const p50 = (ack: number) => median(of(ack).map((r) => r.latencyMs.p50));
    const rate = (ack: number) => median(of(ack).map((r) => r.perSecond));
    process.stdout.write(
      `connections ${connections}: p50 ${p50(0).toFixed(2)} -> ${p50(1).toFixed(2)} ms (+${(p50(1) - p50(0)).toFixed(2)} ms), ` +
        `${rate(0).toFixed(0)} -> ${rate(1).toFixed(0)} webhooks/s (x${(rate(1) / rate(0)).toFixed(2)})\n`,
    );
  }
} finally {
  await stack.stop();
  await replica.destroy();
  await master.destroy();
}
process.exit(0);
