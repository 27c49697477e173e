import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { freePort } from './processes.js';

const run = promisify(execFile);

export interface ClusterNode {
  port: number;
  /** The redis-server arguments, for a restart with the same identity (nodes.conf). */
  args: string[];
  /** `master` or `replica`, as the node was created; a failover swaps roles. */
  createdAs: 'master' | 'replica';
  child: ChildProcess;
}

export interface RedisCluster {
  /** Seed nodes as REDIS_CLUSTER_NODES takes them: `127.0.0.1:port,...`. */
  seedNodes: string;
  nodes: ClusterNode[];
  /** An ioredis Cluster client on the seed nodes; the caller closes it. */
  client(): Cluster;
  /** Ports of the nodes that are masters now, with their slot counts. */
  masters(): Promise<{ port: number; slots: number }[]>;
  /** SIGKILLs one node, as a crashed host would be. */
  kill(port: number): Promise<void>;
  /**
   * Starts a killed node again, as a replaced host: its nodes.conf keeps its identity, so it
   * rejoins, as a replica of whoever took its slots over.
   */
  restart(port: number): Promise<void>;
  /** Resolves once every live node reports `cluster_state:ok` and agrees on the masters. */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real Redis Cluster of the test's own: `masters` masters, each with `replicas` replicas, on
 * free ports in a temp folder, stopped by `stop()`. A short node timeout lets a test's failover
 * finish in a few seconds. redis-cli creates 3 masters or more; fewer (a benchmark's one-master
 * cluster, which measures cluster mode's own cost apart from spreading the work) are made by
 * hand, without replicas.
 */
export async function startRedisCluster(
  options: {
    masters?: number;
    replicas?: number;
    nodeTimeoutMs?: number;
    /** TLS only (clients, replication and the bus), as ElastiCache's in-transit encryption. */
    tls?: TestTls;
    /** `requirepass` on every node, as an ElastiCache AUTH token. */
    password?: string;
  } = {},
): Promise<RedisCluster> {
  const secure: Secure = { tls: options.tls, password: options.password };
  const ask = (port: number, command: [string, ...string[]]) => askNode(port, command, secure);
  const waitForPing = (port: number) => waitForNode(port, secure);
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  const dir = mkdtempSync(path.join(tmpdir(), 'sf-cluster-'));
  const nodes: ClusterNode[] = [];
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      // The bus port is set explicitly: the default (port + 10000) may be taken or out of range.
      const [port, busPort] = [await freePort(), await freePort()];
      const nodeDir = path.join(dir, String(port));
      mkdirSync(nodeDir);
      const listen = options.tls
        ? [
            ...['--port', '0', '--tls-port', String(port), '--tls-cluster', 'yes'],
            ...['--tls-replication', 'yes', '--tls-auth-clients', 'no'],
            ...['--tls-cert-file', options.tls.certFile, '--tls-key-file', options.tls.keyFile],
            ...['--tls-ca-cert-file', options.tls.caFile],
          ]
        : ['--port', String(port)];
      const auth = options.password
        ? ['--requirepass', options.password, '--masterauth', options.password]
        : [];
      const args = [
        ...listen,
        ...auth,
        ...['--cluster-port', String(busPort), '--bind', '127.0.0.1'],
        ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
        ...['--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000)],
        ...['--dir', nodeDir, '--save', '', '--appendonly', 'no'],
        // A node learns its own address from a peer's MEET; a lone master has none to tell it.
        ...(masters < 3 ? ['--cluster-announce-ip', '127.0.0.1'] : []),
      ];
      nodes.push({
        port,
        createdAs: i < masters ? 'master' : 'replica',
        args,
        child: spawnNode(args),
      });
    }
    await Promise.all(nodes.map((node) => waitForPing(node.port)));
    if (masters < 3) {
      if (replicas > 0) {
        throw new Error('A cluster of fewer than 3 masters is made without replicas');
      }
      await assignSlotsByHand(nodes, ask);
    } else {
      // redis-cli gives the first `masters` nodes the slots, and the rest to them as replicas.
      await createWithRedisCli();
    }
  } catch (error) {
    for (const node of nodes) node.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  async function createWithRedisCli() {
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
      ...(options.tls ? ['--tls', '--cacert', options.tls.caFile] : []),
      ...(options.password ? ['-a', options.password, '--no-auth-warning'] : []),
    ]).catch((error: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`redis-cli --cluster create failed: ${error.stderr || error.stdout}`);
    });
  }

  const alive = () => nodes.filter((node) => node.child.exitCode === null && !node.child.killed);
  const cluster: RedisCluster = {
    seedNodes: nodes.map((node) => `127.0.0.1:${node.port}`).join(','),
    nodes,
    client: () =>
      new Cluster(
        nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
        {
          redisOptions: {
            maxRetriesPerRequest: 3,
            ...(options.tls ? { tls: { ca: readFileSync(options.tls.caFile) } } : {}),
            ...(options.password ? { password: options.password } : {}),
          },
        },
      ),
    async masters() {
      const [node] = alive();
      if (!node) return [];
      const slots = (await ask(node.port, ['CLUSTER', 'SLOTS'])) as [
        number,
        number,
        [string, number],
      ][];
      const byPort = new Map<number, number>();
      for (const [from, to, [, port]] of slots) {
        byPort.set(port, (byPort.get(port) ?? 0) + to - from + 1);
      }
      return [...byPort].map(([port, count]) => ({ port, slots: count }));
    },
    async kill(port) {
      const node = nodes.find((n) => n.port === port);
      if (!node) throw new Error(`No cluster node on port ${port}`);
      const exited = new Promise((resolve) => node.child.once('exit', resolve));
      node.child.kill('SIGKILL');
      await exited;
    },
    async restart(port) {
      const node = nodes.find((n) => n.port === port);
      if (!node) throw new Error(`No cluster node on port ${port}`);
      node.child = spawnNode(node.args);
      await waitForPing(port);
    },
    async waitUntilHealthy(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let last: string;
      for (;;) {
        const states = await Promise.all(
          alive().map(async (node) => {
            const info = String(await ask(node.port, ['CLUSTER', 'INFO']).catch(String));
            return /cluster_state:ok/.test(info) ? 'ok' : `${node.port}: ${firstLine(info)}`;
          }),
        );
        last = states.filter((state) => state !== 'ok').join('; ');
        if (!last) {
          const owned = await cluster.masters();
          const slots = owned.reduce((sum, master) => sum + master.slots, 0);
          if (slots === 16384 && owned.every((m) => alive().some((n) => n.port === m.port))) return;
          last = `slots ${slots} of 16384 on live masters`;
        }
        if (Date.now() > deadline) throw new Error(`Redis Cluster not healthy: ${last}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      await Promise.all(alive().map((node) => cluster.kill(node.port)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.waitUntilHealthy();
  return cluster;
}

/** Even slot ranges over `nodes`, and each node introduced to the first, as redis-cli would. */
async function assignSlotsByHand(
  nodes: ClusterNode[],
  ask: (port: number, command: [string, ...string[]]) => Promise<unknown>,
) {
  const per = Math.ceil(16384 / nodes.length);
  for (const [i, node] of nodes.entries()) {
    const from = i * per;
    const to = Math.min(16383, from + per - 1);
    await ask(node.port, ['CLUSTER', 'ADDSLOTSRANGE', String(from), String(to)]);
    // The bus port is not port + 10000 here, so MEET names it.
    const first = nodes[0]!;
    const busPort = first.args[first.args.indexOf('--cluster-port') + 1]!;
    if (i > 0) await ask(node.port, ['CLUSTER', 'MEET', '127.0.0.1', String(first.port), busPort]);
  }
}

const firstLine = (text: string) => text.split('\n')[0]?.trim() ?? '';

/** A certificate authority and a node certificate for 127.0.0.1, as files. */
export interface TestTls {
  caFile: string;
  certFile: string;
  keyFile: string;
}
interface Secure {
  tls?: TestTls | undefined;
  password?: string | undefined;
}

/** One command to one node, on a connection of its own that never retries. */
export async function ask(port: number, command: [string, ...string[]]): Promise<unknown> {
  return askNode(port, command, {});
}

async function askNode(
  port: number,
  command: [string, ...string[]],
  secure: Secure,
): Promise<unknown> {
  const redis = new Redis({
    // By address: the test certificate names 127.0.0.1, not localhost.
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    ...(secure.tls ? { tls: { ca: readFileSync(secure.tls.caFile) } } : {}),
    ...(secure.password ? { password: secure.password } : {}),
  });
  redis.on('error', () => undefined); // the caller sees the rejection
  try {
    await redis.connect();
    return await redis.call(...command);
  } finally {
    redis.disconnect();
  }
}

async function waitForNode(port: number, secure: Secure): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await askNode(port, ['PING'], secure).catch(() => '')) === 'PONG') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `redis-server did not start on port ${port} (is it installed? apt-get install redis-server)`,
  );
}

function spawnNode(args: string[]): ChildProcess {
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  child.once('error', () => undefined);
  return child;
}

/**
 * A throwaway certificate authority and a certificate for 127.0.0.1 signed by it, made with
 * openssl in `dir`: what a TLS test cluster serves, and what a client is told to trust.
 */
export async function makeTestTls(dir: string): Promise<TestTls> {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) =>
    run('openssl', args).catch((error: Error) => {
      throw new Error(
        `openssl failed (is it installed? apt-get install openssl): ${error.message}`,
      );
    });
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=sf-test-ca',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
  );
  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    file('node.key'),
    '-out',
    file('node.csr'),
  );
  writeFileSync(file('san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  await openssl(
    'x509',
    '-req',
    '-in',
    file('node.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file('san.cnf'),
    '-out',
    file('node.crt'),
  );
  return { caFile: file('ca.crt'), certFile: file('node.crt'), keyFile: file('node.key') };
}
