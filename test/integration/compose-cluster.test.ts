import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import calculateSlot from 'cluster-key-slot';
import { loadConfig } from '../../src/shared/config.js';
import { clusterProblem } from '../../src/shared/connections/cluster-state.js';
import {
  closeRedis,
  createRedis,
  waitForRedis,
  type RedisClient,
  type RedisTarget,
} from '../../src/shared/connections/redis.js';
import { readiness, redisCheck } from '../../src/shared/health.js';
import { createLogger } from '../../src/shared/logger.js';
import {
  dockerDir,
  hostPathOf,
  interpolate,
  loadComposeFile,
  streamfeedServices,
  type ComposeService,
} from '../helpers/compose-file.js';
import { freePort, startProcess } from '../helpers/processes.js';
import { ask as askNode } from '../helpers/redis-cluster.js';

const ask = (port: number, ...command: [string, ...string[]]) => askNode(port, command);

const cluster = loadComposeFile('compose.cluster.yml');
const single = loadComposeFile('compose.yml');
const INIT = 'redis-cluster-init';
const CONF = '/usr/local/etc/redis/cluster.conf';
const SCRIPT = '/usr/local/bin/redis-cluster-init.sh';

const isNode = (service: ComposeService) => service.command?.[0] === 'redis-server';
const nodeNames = Object.keys(cluster.services).filter((name) => isNode(cluster.services[name]!));
const dependsOn = (service: ComposeService) =>
  Array.isArray(service.depends_on) ? {} : (service.depends_on ?? {});
const initService = cluster.services[INIT]!;
/** What the init script is given: the replica count, then the nodes. */
const [, , replicasArg, ...initNodes] = initService.command ?? [];

/** Fills the `${...:?set ...}` that compose.yml asks the operator for. */
const OPERATOR_ENV = {
  TWITCH_CLIENT_ID: 'compose-test-client',
  TWITCH_CLIENT_SECRET: 'compose-test-secret',
  TWITCH_EVENTSUB_SECRET: 'compose-test-eventsub-secret',
  SESSION_SECRET: 'compose-test-session-secret-of-32-chars!',
  METRICS_TOKEN: 'compose-test-metrics-token',
};

describe('docker/compose.cluster.yml', () => {
  it('has redis-cluster.conf set cluster mode, AOF, noeviction and host names for clients', () => {
    const settings = new Map(
      readFileSync(path.join(dockerDir, 'redis-cluster.conf'), 'utf8')
        .split('\n')
        .filter((line) => line.trim() && !line.startsWith('#'))
        .map((line) => [line.split(' ')[0], line.split(' ').slice(1).join(' ')]),
    );
    assert.equal(settings.get('cluster-enabled'), 'yes');
    assert.equal(settings.get('appendonly'), 'yes');
    assert.equal(settings.get('maxmemory-policy'), 'noeviction');
    assert.equal(settings.get('cluster-preferred-endpoint-type'), 'hostname');
    assert.equal(
      settings.has('port'),
      false,
      'every node has the port its service name is given with',
    );
  });

  it('runs each node on redis-cluster.conf, announcing its own service name', () => {
    assert.ok(nodeNames.length >= 3, `redis-cli needs 3 masters at least: ${nodeNames.join()}`);
    for (const name of nodeNames) {
      const service = cluster.services[name]!;
      assert.deepEqual(service.command, [
        'redis-server',
        CONF,
        '--cluster-announce-hostname',
        name,
      ]);
      assert.equal(hostPathOf(service, CONF), path.join(dockerDir, 'redis-cluster.conf'));
      assert.ok(
        service.volumes?.some((volume) => volume === `${name}-data:/data`),
        `${name} keeps /data (nodes.conf, the AOF) on a volume of its own`,
      );
      assert.ok(cluster.volumes && `${name}-data` in cluster.volumes, `${name}-data is declared`);
      assert.deepEqual(service.healthcheck?.test, ['CMD', 'redis-cli', 'ping']);
    }
  });

  it('has the init form the cluster of exactly those nodes, once each is healthy', () => {
    assert.deepEqual(initService.command?.slice(0, 2), ['sh', SCRIPT]);
    hostPathOf(initService, SCRIPT);
    assert.deepEqual(
      initNodes,
      nodeNames.map((name) => `${name}:6379`),
    );
    assert.equal(replicasArg, '1');
    assert.deepEqual(
      dependsOn(initService),
      Object.fromEntries(nodeNames.map((name) => [name, { condition: 'service_healthy' }])),
    );
  });

  it('gives every streamfeed process those nodes, no REDIS_URL, and starts it after the init', () => {
    const services = streamfeedServices(cluster);
    assert.ok(services.length >= 7, services.map(([name]) => name).join());
    for (const [name, service] of services) {
      const env = service.environment ?? {};
      assert.equal(env.REDIS_CLUSTER_NODES, initNodes.join(','), name);
      assert.equal('REDIS_URL' in env, false, `${name} has no REDIS_URL`);
      // The release runs migrations only: it never connects to Redis (migrate.main.ts).
      if (name === 'release') continue;
      assert.deepEqual(dependsOn(service)[INIT], {
        condition: 'service_completed_successfully',
      });
    }
  });

  it('is compose.yml in every other respect', () => {
    const withoutRedis = (file: typeof cluster, isRedis: (name: string) => boolean) =>
      Object.fromEntries(
        Object.entries(file.services)
          .filter(([name]) => !isRedis(name))
          .map(([name, service]) => {
            const { REDIS_URL, REDIS_CLUSTER_NODES, ...environment } = service.environment ?? {};
            void [REDIS_URL, REDIS_CLUSTER_NODES];
            const depends = Object.entries(dependsOn(service)).filter(([dep]) => !isRedis(dep));
            return [
              name,
              {
                ...service,
                ...(service.environment ? { environment } : {}),
                ...(service.depends_on && !Array.isArray(service.depends_on)
                  ? { depends_on: Object.fromEntries(depends) }
                  : {}),
              },
            ];
          }),
      );
    assert.deepEqual(
      withoutRedis(cluster, (name) => nodeNames.includes(name) || name === INIT),
      withoutRedis(single, (name) => name === 'redis'),
    );
    const volumes = (file: typeof cluster) =>
      Object.keys(file.volumes ?? {}).filter((name) => !/^redis/.test(name));
    assert.deepEqual(volumes(cluster), volumes(single));
  });
});

interface LocalNode {
  name: string;
  port: number;
  args: string[];
  dir: string;
  child?: ChildProcess;
}

/** The file's commands, run here: each node as its container would run it, on its own port. */
describe("docker/compose.cluster.yml's Redis commands, run for real", function () {
  this.timeout(120_000);
  const root = mkdtempSync(path.join(tmpdir(), 'sf-compose-'));
  const nodes: LocalNode[] = [];
  const prefix = `t${randomBytes(5).toString('hex')}`;
  const local = (compose: string) =>
    compose.replace(/\b(redis-\d+):6379\b/g, (whole, name: string) => {
      const node = nodes.find((n) => n.name === name);
      if (!node) throw new Error(`${whole} is no node of the file`);
      return `localhost:${node.port}`;
    });

  async function startNode(node: LocalNode): Promise<void> {
    // The container's /data is the node's folder (its working directory, as in the image).
    node.child = spawn('redis-server', node.args, { cwd: node.dir, stdio: 'ignore' });
    node.child.once('error', () => undefined);
    for (let i = 0; i < 100; i++) {
      if ((await ask(node.port, 'PING').catch(() => '')) === 'PONG') return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${node.name} (redis-server ${node.args.join(' ')}) did not start`);
  }

  async function stopNode(node: LocalNode, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = node.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  /** The init service's command, its nodes given as the local ones. */
  const runInit = () =>
    new Promise<{ code: number; output: string }>((resolve) => {
      const [shell, script, ...args] = initService.command!;
      execFile(
        shell!,
        [hostPathOf(initService, script!), ...args.map(local)],
        { timeout: 90_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
      );
    });

  before(async () => {
    for (const name of nodeNames) {
      const service = cluster.services[name]!;
      const [port, busPort] = [await freePort(), await freePort()];
      const dir = path.join(root, name);
      mkdirSync(dir);
      const args = service.command!.slice(1).map((arg) => {
        if (arg === CONF) return hostPathOf(service, CONF);
        // No Docker DNS here: each node announces the name this machine reaches it by.
        return arg === name ? 'localhost' : arg;
      });
      // A container has 6379 and 16379 to itself; here each node needs ports of its own.
      args.push('--port', String(port), '--cluster-port', String(busPort));
      args.push('--bind', '127.0.0.1', '-::1');
      nodes.push({ name, port, args, dir });
    }
    await Promise.all(nodes.map(startNode));
  });
  after(async () => {
    await Promise.all(nodes.map((node) => stopNode(node, 'SIGKILL')));
    rmSync(root, { recursive: true, force: true });
  });

  it('forms a cluster of 3 masters with a replica each, and waits for cluster_state:ok', async () => {
    const { code, output } = await runInit();
    assert.equal(code, 0, output);
    assert.match(output, /creating a cluster of 6 nodes, 1 replica/);
    assert.match(output, /cluster_state:ok on all 6 nodes, every replica in sync/);
    const roles = await Promise.all(nodes.map((node) => role(node.port)));
    assert.equal(roles.filter((r) => r === 'master').length, 3, roles.join());
    assert.equal(roles.filter((r) => r === 'slave').length, 3, roles.join());
    for (const node of nodes) {
      assert.match(String(await ask(node.port, 'CLUSTER', 'INFO')), /cluster_state:ok/);
      const replication = String(await ask(node.port, 'INFO', 'replication'));
      if (/role:slave/.test(replication)) assert.match(replication, /master_link_status:up/);
    }
  });

  it('runs every node with AOF, noeviction, a 5 s node timeout, and names it by its host name', async () => {
    for (const node of nodes) {
      const config = async (key: string) =>
        ((await ask(node.port, 'CONFIG', 'GET', key)) as string[])[1];
      assert.equal(await config('appendonly'), 'yes', node.name);
      assert.equal(await config('maxmemory-policy'), 'noeviction', node.name);
      assert.equal(await config('cluster-node-timeout'), '5000', node.name);
    }
    const slots = (await ask(nodes[0]!.port, 'CLUSTER', 'SLOTS')) as [number, number, [string]][];
    assert.deepEqual([...new Set(slots.map(([, , [endpoint]]) => endpoint))], ['localhost']);
  });

  it("is what streamfeed's config, start-up check, client and readiness take", async () => {
    const env = envOf('processor');
    const config = loadConfig('processor', env);
    assert.equal(config.redis.cluster?.nodes.length, nodes.length);
    assert.equal(await clusterProblem(config.redis.cluster), null);
    const redis = await connect(config.redis);
    try {
      await redisCheck(redis).check();
      // Keys on every master: the client follows the slot map's host names to each of them.
      const keys = Array.from({ length: 30 }, (_, i) => `${prefix}:{k${i}}`);
      for (const key of keys) await redis.set(key, key);
      const owners = new Set<number>();
      for (const node of nodes) {
        if ((await role(node.port)) !== 'master') continue;
        for (const key of keys) {
          const slot = (await ask(node.port, 'CLUSTER', 'KEYSLOT', key)) as number;
          if ((await ask(node.port, 'CLUSTER', 'COUNTKEYSINSLOT', String(slot))) !== 0) {
            owners.add(node.port);
          }
        }
      }
      assert.equal(owners.size, 3, 'the keys are on all three masters');
      for (const key of keys) assert.equal(await redis.get(key), key);
    } finally {
      await closeRedis(redis);
    }
  });

  it('starts a streamfeed process (the emitter) with the environment the file gives it', async () => {
    const healthPort = String(await freePort());
    const emitter = startProcess('compose-emitter', 'emitter', {
      ...envOf('emitter'),
      HEALTH_PORT: healthPort,
      REDIS_PREFIX: prefix,
      LOG_LEVEL: 'warn',
    });
    try {
      const deadline = Date.now() + 20_000;
      let status = 0;
      while (status !== 200 && Date.now() < deadline && emitter.child.exitCode === null) {
        status = await fetch(`http://127.0.0.1:${healthPort}/readyz`).then(
          (response) => response.status,
          () => 0,
        );
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.equal(status, 200, emitter.output());
    } finally {
      await emitter.stop();
    }
  });

  it('run again, creates nothing: the cluster keeps its node ids', async () => {
    const ids = await Promise.all(nodes.map((node) => ask(node.port, 'CLUSTER', 'MYID')));
    const { code, output } = await runInit();
    assert.equal(code, 0, output);
    assert.match(output, /the cluster exists, nothing to create/);
    assert.deepEqual(
      await Promise.all(nodes.map((node) => ask(node.port, 'CLUSTER', 'MYID'))),
      ids,
    );
  });

  it('comes back after every node restarts (compose down, up): same cluster, data kept', async () => {
    const redis = await connect(loadConfig('emitter', envOf('emitter')).redis);
    const key = `${prefix}:{restart}`;
    await redis.set(key, 'kept');
    await closeRedis(redis);
    await Promise.all(nodes.map((node) => stopNode(node)));
    await Promise.all(nodes.map(startNode));
    const { code, output } = await runInit();
    assert.equal(code, 0, output);
    assert.match(output, /the cluster exists, nothing to create/);
    const again = await connect(loadConfig('emitter', envOf('emitter')).redis);
    try {
      assert.equal(await again.get(key), 'kept');
    } finally {
      await closeRedis(again);
    }
  });

  it('a master killed: its slots are out until its replica takes over, after the node timeout', async () => {
    const redis = await connect(loadConfig('emitter', envOf('emitter')).redis);
    const probe = [redisCheck(redis)];
    try {
      const roles = await Promise.all(nodes.map((node) => role(node.port)));
      const master = nodes[roles.indexOf('master')]!;
      const key = await keyOn(master.port);
      const killedAt = Date.now();
      await stopNode(master, 'SIGKILL');
      assert.equal((await readiness(probe)).ok, false, 'readiness fails while a master is gone');
      await assert.rejects(redis.set(key, 'during'), 'its slots take no write meanwhile');
      let writable = 0;
      while (!writable && Date.now() - killedAt < 30_000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (!(await readiness(probe)).ok) continue;
        writable = await redis.set(key, 'after').then(() => Date.now() - killedAt);
      }
      // The replica waits the node timeout (5 s) to call its master failed, then wins an election
      // (7.7-8.7 s from the kill to the first write here).
      assert.ok(writable >= 5000 && writable < 15_000, `writable again after ${writable} ms`);
      await startNode(master);
      await eventuallyOk(nodes);
      assert.equal(await role(master.port), 'slave', 'the old master comes back as a replica');
    } finally {
      await closeRedis(redis);
    }
  });

  it('refuses to go on when one node lost its volume, saying what to do', async () => {
    const lost = nodes[nodes.length - 1]!;
    await stopNode(lost);
    rmSync(lost.dir, { recursive: true, force: true });
    mkdirSync(lost.dir);
    await startNode(lost);
    const { code, output } = await runInit();
    assert.equal(code, 1, output);
    assert.match(output, /1 of 6 nodes are empty .*\(redis-cli --cluster add-node\)/);
  });

  /** A streamfeed command client on the cluster, once it is ready (it queues nothing before). */
  async function connect(target: RedisTarget): Promise<RedisClient> {
    const redis = createRedis(target, 'compose-test', 'command', createLogger('silent', 'test'));
    await waitForRedis(redis, 'compose-test');
    return redis;
  }

  function envOf(serviceName: string): Record<string, string> {
    const service = cluster.services[serviceName]!;
    return Object.fromEntries(
      Object.entries(service.environment ?? {}).map(([key, value]) => [
        key,
        local(interpolate(String(value), OPERATOR_ENV)),
      ]),
    );
  }
});

const role = async (port: number) => ((await ask(port, 'ROLE')) as [string])[0];

/** A key in a slot that the node on `port` owns. */
async function keyOn(port: number): Promise<string> {
  const ranges = (await ask(port, 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  const owned = ranges.filter(([, , [, owner]]) => owner === port);
  for (let i = 0; ; i++) {
    const slot = calculateSlot(`{f${i}}`);
    if (owned.some(([from, to]) => slot >= from && slot <= to)) return `{f${i}}`;
  }
}

async function eventuallyOk(nodes: { port: number }[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const infos = await Promise.all(
      nodes.map((node) => ask(node.port, 'CLUSTER', 'INFO').catch(String)),
    );
    if (infos.every((info) => /cluster_state:ok/.test(String(info)))) return;
    if (Date.now() > deadline) throw new Error(`Cluster not ok: ${infos.join(' | ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
