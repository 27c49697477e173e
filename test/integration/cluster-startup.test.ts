import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startProcess, type ProcessType } from '../helpers/processes.js';
import { EVENTSUB_SECRET, SESSION_SECRET } from '../helpers/stack.js';
import { makeTestTls, startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';

const PROCESS_TYPES: ProcessType[] = ['web', 'realtime', 'processor', 'emitter'];

const envFor = (clusterNodes: string) => ({
  NODE_ENV: 'test',
  REDIS_CLUSTER_NODES: clusterNodes,
  REDIS_PREFIX: `t${randomBytes(5).toString('hex')}`,
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/sf_test_never_reached',
  TWITCH_EVENTSUB_SECRET: EVENTSUB_SECRET,
  SESSION_SECRET,
});

/** Every process type exits 1 with exactly one line on stderr-like output that matches. */
async function assertEveryTypeRefuses(clusterNodes: string, line: RegExp): Promise<void> {
  await Promise.all(
    PROCESS_TYPES.map(async (type) => {
      const port = String(await freePort());
      const child = startProcess(type, type, {
        ...envFor(clusterNodes),
        PORT: port,
        HEALTH_PORT: port,
      });
      assert.equal(await child.exited, 1, `${type}: ${child.output()}`);
      const lines = child.output().split('\n').filter(Boolean);
      assert.equal(lines.length, 1, `${type} says it in one line: ${child.output()}`);
      assert.match(lines[0]!, new RegExp(`^streamfeed ${type}: cannot start, ${line.source}`));
    }),
  );
}

describe('process start-up on a Redis Cluster (REDIS_CLUSTER_NODES)', function () {
  this.timeout(90_000);
  let cluster: RedisCluster | undefined;
  after(async () => {
    await cluster?.stop();
  });

  it('refuses to start, in one line, when no seed node answers', async () => {
    const [a, b] = [await freePort(), await freePort()];
    await assertEveryTypeRefuses(
      `127.0.0.1:${a},127.0.0.1:${b}`,
      new RegExp(
        `Redis Cluster at 127\\.0\\.0\\.1:${a},127\\.0\\.0\\.1:${b} cannot be reached: 127\\.0\\.0\\.1:${a}: .*ECONNREFUSED.*; 127\\.0\\.0\\.1:${b}: `,
      ),
    );
  });

  it('refuses a seed that is a Redis without cluster mode, saying to use REDIS_URL', async () => {
    await assertEveryTypeRefuses(
      '127.0.0.1:6379',
      /REDIS_CLUSTER_NODES: 127\.0\.0\.1:6379 is a Redis without cluster mode \(use REDIS_URL for it\)$/,
    );
  });

  it('refuses a cluster that is not in cluster_state:ok, naming the state', async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 0, nodeTimeoutMs: 500 });
    const [dead, alive] = (await cluster.masters()).map((master) => master.port) as [
      number,
      number,
    ];
    await cluster.kill(dead);
    // Without a replica to take over, the slots of the dead master fail once it times out.
    const survivor = new Redis({ port: alive, host: '127.0.0.1' });
    try {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const info = (await survivor.call('CLUSTER', 'INFO')) as string;
        if (info.includes('cluster_state:fail')) break;
        if (Date.now() > deadline) throw new Error(`the cluster did not fail: ${info}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      survivor.disconnect();
    }
    await assertEveryTypeRefuses(
      `127.0.0.1:${alive}`,
      /Redis Cluster at 127\.0\.0\.1:\d+ is not usable: cluster_state:fail \(slots assigned 16384 of 16384, \d+ failing, 3 nodes known\)$/,
    );
  });

  it('starts on a cluster that takes TLS only and a password, and names a wrong password', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sf-tls-'));
    const secured = await startRedisCluster({
      masters: 3,
      tls: await makeTestTls(dir),
      password: 'cluster-auth-token',
    });
    try {
      const env = {
        ...envFor(secured.seedNodes),
        REDIS_TLS: 'true',
        REDIS_PASSWORD: 'cluster-auth-token',
        // How a private CA is trusted by Node; ElastiCache's certificates need nothing.
        NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.crt'),
      };
      const [emitterPort, realtimePort] = [await freePort(), await freePort()];
      const emitter = startProcess('emitter', 'emitter', {
        ...env,
        HEALTH_PORT: String(emitterPort),
      });
      const realtime = startProcess('realtime', 'realtime', { ...env, PORT: String(realtimePort) });
      try {
        await emitter.waitForOutput(/emitter started/);
        await realtime.waitForOutput(/realtime listening/);
        for (const port of [emitterPort, realtimePort]) {
          const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
          assert.equal(ready.status, 200, await ready.text());
        }
      } finally {
        await emitter.stop('SIGTERM');
        await realtime.stop('SIGTERM');
      }
      const wrong = startProcess('emitter', 'emitter', {
        ...env,
        REDIS_PASSWORD: 'not-the-token',
        HEALTH_PORT: String(emitterPort),
      });
      assert.equal(await wrong.exited, 1, wrong.output());
      assert.match(
        wrong.output(),
        /^streamfeed emitter: cannot start, Redis Cluster at .* cannot be reached: 127\.0\.0\.1:\d+: WRONGPASS/m,
      );
    } finally {
      await secured.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
