import assert from 'node:assert/strict';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { EVENTSUB_SECRET, QUEUES, startStack, type Stack } from '../helpers/stack.js';
import { deliver, followPayload, notificationBody } from '../helpers/twitch.js';
import { startPrivateRedis } from '../helpers/private-redis.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { assertStoredOnce } from '../helpers/exactly-once.js';
import { queueShardName, streamerShard } from '../../src/shared/queues.js';
import { callbackJobId } from '../../src/api/webhooks/eventsub-intake.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const follow = (stack: Stack, streamer: string, user: string, messageId?: string, retry = 0) =>
  deliver(stack.webhookUrl, EVENTSUB_SECRET, {
    body: notificationBody(followPayload(streamer, user)),
    subscriptionType: 'channel.follow',
    subscriptionVersion: '2',
    retry,
    ...(messageId ? { messageId } : {}),
  });

/** A streamer id whose callbacks go to `shard` of `shards`. */
function streamerOnShard(shard: number, shards: number, from = 9000): string {
  for (let id = from; ; id++) if (streamerShard(String(id), shards) === shard) return String(id);
}

async function waitForReplication(replica: Redis): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const info = await replica.info('replication');
    if (/master_link_status:up/.test(info)) return;
    await sleep(100);
  }
  throw new Error('the replica did not sync');
}

/**
 * Until the master's own WAIT counts the replica: its link can be up on the replica's side while
 * the master still counts it as syncing, and then web's WAIT (what is tested) would time out.
 */
async function waitUntilMasterCountsReplica(masterUrl: string): Promise<void> {
  const master = new Redis(masterUrl, { maxRetriesPerRequest: 1 });
  try {
    for (let i = 0; i < 100; i++) {
      if ((await master.wait(1, 100)) >= 1) return;
    }
    throw new Error('the master never counted the replica');
  } finally {
    master.disconnect();
  }
}

describe('REDIS_ACK_REPLICAS on a single Redis with a replica', function () {
  this.timeout(90_000);
  let master: Awaited<ReturnType<typeof startPrivateRedis>>;
  let replica: Awaited<ReturnType<typeof startPrivateRedis>>;
  let replicaClient: Redis;
  let stack: Stack;

  before(async () => {
    master = await startPrivateRedis({ appendfsync: 'everysec' });
    replica = await startPrivateRedis({
      appendfsync: 'everysec',
      args: ['--replicaof', '127.0.0.1', String(master.port)],
    });
    replicaClient = new Redis(replica.url, { maxRetriesPerRequest: 1 });
    replicaClient.on('error', () => undefined);
    await waitForReplication(replicaClient);
    stack = await startStack({
      redisUrl: master.url,
      env: { REDIS_ACK_REPLICAS: '1', REDIS_ACK_TIMEOUT_MS: '300' },
      without: ['realtime'],
    });
  });
  after(async () => {
    replicaClient?.disconnect();
    await stack?.stop();
    await replica?.destroy();
    await master?.destroy();
  });

  it('answers 202 once the replica has the job, and 503 while no replica acknowledges', async () => {
    const accepted = await follow(stack, '9101', '910001');
    assert.equal(accepted.status, 202, accepted.body);
    const jobKey = `${stack.prefix}:bull:${queueShardName(QUEUES.callbacks, 0)}:${callbackJobId(accepted.messageId)}`;
    assert.equal(await replicaClient.exists(jobKey), 1, 'the replica holds the acknowledged job');

    await replica.stop();
    const started = Date.now();
    const refused = await follow(stack, '9101', '910002', 'ack-refused-1');
    assert.equal(refused.status, 503, refused.body);
    assert.equal(
      (JSON.parse(refused.body) as { error: { code: string } }).error.code,
      'unavailable',
    );
    assert.ok(Date.now() - started >= 300, 'it waited REDIS_ACK_TIMEOUT_MS for the replica');
    await stack.processes
      .get('web')!
      .waitForOutput(
        /EventSub message ack-refused-1 is queued but not yet on a replica: 0 of 1 replica\(s\) acknowledged the write within 300 ms \(REDIS_ACK_REPLICAS\)/,
      );

    // The retry Twitch sends once the replica is back is taken, and the event is stored once.
    await replica.start();
    await waitForReplication(replicaClient);
    await waitUntilMasterCountsReplica(master.url);
    const retried = await follow(stack, '9101', '910002', 'ack-refused-1', 1);
    assert.ok([202, 204].includes(retried.status), `${retried.status} ${retried.body}`);
    await assertStoredOnce(stack, ['9101'], 2);
  });
});

describe('REDIS_ACK_REPLICAS on a Redis Cluster with a replica per master', function () {
  this.timeout(120_000);
  const SHARDS = 6;
  let cluster: RedisCluster;
  let stack: Stack;

  before(async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 5000 });
    stack = await startStack({
      cluster,
      env: {
        QUEUE_SHARDS: String(SHARDS),
        REDIS_ACK_REPLICAS: '1',
        REDIS_ACK_TIMEOUT_MS: '300',
      },
      without: ['realtime'],
    });
  });
  after(async () => {
    await stack?.stop();
    await cluster?.stop();
  });

  it("waits on the master of the callback's own queue: its replica gone, only that queue's callbacks get 503", async () => {
    // Which master and replica hold each shard's queue.
    const seed = new Redis({ port: cluster.nodes[0]!.port, host: '127.0.0.1' });
    type Range = [number, number, [string, number], ...[string, number][]];
    let ranges: Range[] = [];
    // Replicas show in CLUSTER SLOTS once they have joined their masters.
    for (let i = 0; i < 100; i++) {
      ranges = (await seed.call('CLUSTER', 'SLOTS')) as Range[];
      if (ranges.every((range) => range.length > 3)) break;
      await sleep(100);
    }
    seed.disconnect();
    const ownerOf = (shard: number) => {
      const slot = calculateSlot(queueShardName(QUEUES.callbacks, shard));
      const [, , [, masterPort], ...replicas] = ranges.find(([a, b]) => slot >= a && slot <= b)!;
      return { masterPort, replicaPort: replicas[0]![1] };
    };
    const owners = Array.from({ length: SHARDS }, (_, shard) => ownerOf(shard));
    const victim = owners[0]!;
    const other = owners.findIndex((owner) => owner.masterPort !== victim.masterPort);
    assert.ok(other > 0, 'six queues span more than one master');

    for (let shard = 0; shard < SHARDS; shard++) {
      const result = await follow(stack, streamerOnShard(shard, SHARDS), `92000${shard}`);
      assert.equal(result.status, 202, `shard ${shard}: ${result.body}`);
    }

    await cluster.kill(victim.replicaPort);
    const refused = await follow(stack, streamerOnShard(0, SHARDS), '920100');
    assert.equal(refused.status, 503, 'its master has no replica to acknowledge');
    const taken = await follow(stack, streamerOnShard(other, SHARDS), '920101');
    assert.equal(taken.status, 202, 'a queue on another master still has its replica');
  });
});
