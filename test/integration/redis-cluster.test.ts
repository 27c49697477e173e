import assert from 'node:assert/strict';
import type { Cluster } from 'ioredis';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';

/**
 * The test helpers' own Redis Cluster (#13 runs the suites on it): three masters with a replica
 * each, on free ports, that enforces slots as ElastiCache cluster mode does, and fails over.
 */
describe('a real Redis Cluster from the test helpers', function () {
  this.timeout(60_000);
  let cluster: RedisCluster;
  let client: Cluster;

  before(async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 1 });
    client = cluster.client();
  });
  after(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it('spreads the 16384 slots over three masters, each with a replica', async () => {
    const masters = await cluster.masters();
    assert.equal(masters.length, 3);
    assert.equal(
      masters.reduce((sum, master) => sum + master.slots, 0),
      16384,
    );
    const replicas = await Promise.all(
      cluster.nodes
        .filter((node) => node.createdAs === 'master')
        .map(async (node) => {
          const [master] = client.nodes('master').filter((n) => n.options.port === node.port);
          return String(await master!.info('replication')).match(/connected_slaves:(\d+)/)?.[1];
        }),
    );
    assert.deepEqual(replicas, ['1', '1', '1']);
  });

  it('refuses a transaction across slots (CROSSSLOT) and runs one inside a hash tag', async () => {
    await assert.rejects(
      client.multi().set('sf:a', '1').set('sf:b', '2').exec(),
      /CROSSSLOT|EXECABORT/,
    );
    const results = await client.multi().set('sf:{b1}:a', '1').set('sf:{b1}:b', '2').exec();
    assert.deepEqual(results, [
      [null, 'OK'],
      [null, 'OK'],
    ]);
  });

  it('fails over: a SIGKILLed master is replaced by its replica, and its acknowledged keys stay', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `sf:failover:${i}`);
    for (const key of keys) await client.set(key, key);
    // Every master has its replica's copy before the kill (WAIT: replication is asynchronous).
    for (const master of client.nodes('master')) assert.equal(await master.wait(1, 5000), 1);

    const [victim] = await cluster.masters();
    await cluster.kill(victim!.port);
    await cluster.waitUntilHealthy();

    const masters = await cluster.masters();
    assert.equal(masters.length, 3);
    assert.ok(!masters.some((master) => master.port === victim!.port));
    const fresh = cluster.client();
    try {
      assert.deepEqual(await Promise.all(keys.map((key) => fresh.get(key))), keys);
    } finally {
      fresh.disconnect();
    }
  });
});
