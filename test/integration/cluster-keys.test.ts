import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import express, { type RequestHandler } from 'express';
import passport from 'passport';
import { Worker, type Job } from 'bullmq';
import { Cluster } from 'ioredis';
import { pino } from 'pino';
import { createUserTokens } from '../../src/shared/auth/user-tokens.js';
import {
  scheduleUserTokenValidation,
  validateUserTokens,
} from '../../src/shared/auth/token-validation.js';
import { createSessionStore, sessionMiddleware } from '../../src/api/auth/session.middleware.js';
import { twitchLoginRoutes } from '../../src/api/auth/twitch-login.routes.js';
import { createRedisRateLimitStore } from '../../src/api/rate-limit-store.js';
import { createNewStreamerBudget } from '../../src/api/new-streamer-budget.js';
import {
  REJECTED_KEPT,
  createRejectedCallbacks,
} from '../../src/api/webhooks/rejected-callbacks.js';
import { createEventIdentity } from '../../src/shared/events/event-identity.js';
import { processedMessageKey } from '../../src/shared/events/processed-messages.js';
import { createFeedCache } from '../../src/shared/feed/feed-cache.js';
import { createEventSubCallbackProcessor } from '../../src/workers/processors/eventsub-callback.processor.js';
import { createHelixClient } from '../../src/shared/twitch/helix-client.js';
import { runFailedJobs } from '../../src/ops/failed-jobs.js';
import { queueDashboard } from '../../src/api/admin/queue-dashboard.js';
import { scanKeys } from '../../src/shared/connections/scan-keys.js';
import { readiness, redisCheck } from '../../src/shared/health.js';
import {
  QUEUES,
  bullPrefix,
  createQueue,
  queueShardName,
  streamerShard,
  type EventSubCallbackJob,
} from '../../src/shared/queues.js';
import calculateSlot from 'cluster-key-slot';
import { feedKeys } from '../../src/shared/feed/feed-keys.js';
import { feedChannel } from '../../src/shared/feed/feed-channels.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { deleteKeys } from '../helpers/redis.js';
import { SIM_CLIENT, startSimulator, type RunningSimulator } from '../helpers/simulator.js';
import { Browser, logInThroughSimulator } from '../helpers/cookie-browser.js';
import { followPayload, loadPayloads, notificationBody } from '../helpers/twitch.js';

const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * #13: every module that touches Redis, through its own functions, on a real three-master
 * Cluster that refuses what crosses slots. The keys each case uses are chosen to lie on
 * different masters, so that a pass means the code really spans nodes.
 */
describe('streamfeed’s Redis keys on a three-master Redis Cluster', function () {
  this.timeout(60_000);
  let cluster: RedisCluster;
  let client: Cluster;
  let sim: RunningSimulator;
  let prefix: string;

  before(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    client = cluster.client();
    sim = await startSimulator();
    prefix = `t${randomBytes(5).toString('hex')}`;
    await client.set(`${prefix}:warm-up`, '1'); // connected, with the slot table loaded
  });
  after(async () => {
    if (client) await deleteKeys(client, prefix);
    client?.disconnect();
    await cluster?.stop();
    await sim?.close();
  });

  /** The master (host:port) that serves `key`'s slot. */
  const masterOf = async (key: string): Promise<string> => {
    const slot = await client.cluster('KEYSLOT', key);
    return client.slots[slot]![0]!;
  };
  /** `count` names made by `name(i)` whose keys (`key(name)`) lie on every master in turn. */
  const spreadOverMasters = async (
    count: number,
    name: (i: number) => string,
    key: (name: string) => string = (n) => n,
  ): Promise<string[]> => {
    const byMaster = new Map<string, string[]>();
    for (let i = 0; [...byMaster.values()].flat().length < count; i++) {
      const candidate = name(i);
      const master = await masterOf(key(candidate));
      const names = byMaster.get(master) ?? [];
      if (names.length < Math.ceil(count / 3)) byMaster.set(master, [...names, candidate]);
    }
    assert.equal(byMaster.size, 3, 'the names lie on all three masters');
    return [...byMaster.values()].flat().slice(0, count);
  };
  const sessionKey = (sid: string) => `${prefix}:sess:${sid}`;

  it('the keys of one login lie in different slots, so one MULTI could not hold them', async () => {
    const keysOf = (userId: string) => [
      `${prefix}:user:${userId}:token`,
      `${prefix}:user:${userId}:sessions`,
      `${prefix}:users-with-tokens`,
    ];
    // A user whose keys lie on two masters or three, as most do (so ioredis refuses the MULTI
    // itself, and the CROSSSLOT count below stays the servers' own).
    let userId = 9000;
    while (new Set(await Promise.all(keysOf(String(userId)).map(masterOf))).size < 2) userId++;
    const keys = keysOf(String(userId));
    await assert.rejects(
      client.multi().set(keys[0]!, '{}').sadd(keys[1]!, 's').sadd(keys[2]!, String(userId)).exec(),
      /CROSSSLOT|same slots|EXECABORT/,
    );
  });

  it('remembers a login and ends every session of the user, across masters', async () => {
    const tokens = createUserTokens(client, prefix);
    const store = createSessionStore(client, prefix);
    const setSession = promisify(store.set.bind(store));
    const userId = '9001';
    const sids = await spreadOverMasters(6, (i) => `sid-${userId}-${i}`, sessionKey);
    for (const sid of sids) {
      await setSession(sid, { cookie: { originalMaxAge: 60_000 } });
      await tokens.remember(userId, { accessToken: 'a', refreshToken: 'r' }, sid);
    }
    await tokens.remember('9002', { accessToken: 'other', refreshToken: null }, 'sid-other');
    assert.deepEqual((await tokens.users()).sort(), [userId, '9002']);
    assert.deepEqual(await tokens.get(userId), { accessToken: 'a', refreshToken: 'r' });
    await tokens.forgetSession(userId, sids[5]!);

    assert.equal(await tokens.endSessions(userId), 5);
    for (const sid of sids.slice(0, 5)) assert.equal(await client.exists(sessionKey(sid)), 0, sid);
    assert.equal(await client.exists(sessionKey(sids[5]!)), 1, 'a forgotten session is not ended');
    assert.equal(await tokens.get(userId), null);
    assert.equal(await client.exists(`${prefix}:user:${userId}:sessions`), 0);
    assert.deepEqual(await tokens.users(), ['9002'], 'the user left the users set, no one else');
    assert.equal((await tokens.get('9002'))?.accessToken, 'other');
  });

  it('serves sessions through express-session, and the whole-store calls see every master', async () => {
    const app = express();
    app.use(
      sessionMiddleware({
        redis: client,
        prefix: `${prefix}:mw`,
        secret: 's'.repeat(32),
        publicUrl: 'http://localhost',
      }),
    );
    app.get('/count', (req, res) => {
      const session = req.session as typeof req.session & { n?: number };
      session.n = (session.n ?? 0) + 1;
      res.json({ n: session.n });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/count`;
      const first = await fetch(url);
      const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
      assert.deepEqual(await first.json(), { n: 1 });
      assert.deepEqual(await (await fetch(url, { headers: { cookie } })).json(), { n: 2 });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }

    const store = createSessionStore(client, `${prefix}:mw`);
    const sids = await spreadOverMasters(
      9,
      (i) => `all-${i}`,
      (sid) => `${prefix}:mw:sess:${sid}`,
    );
    for (const sid of sids) {
      await promisify(store.set.bind(store))(sid, { cookie: { originalMaxAge: 60_000 } });
    }
    const length = promisify(store.length.bind(store));
    const ids = (await promisify(store.ids.bind(store))()) as string[];
    assert.equal(await length(), 10, 'the middleware’s session and the nine');
    assert.deepEqual(ids.filter((id) => id.startsWith('all-')).sort(), [...sids].sort());
    const all = (await promisify(store.all.bind(store))()) as { id: string }[];
    assert.equal(all.length, 10);
    await promisify(store.clear.bind(store))();
    assert.equal(await length(), 0);
  });

  it('logs a viewer in through Twitch on the Cluster, and no session outlives a failed remember', async () => {
    const own = `${prefix}:login`;
    const tokens = createUserTokens(client, own);
    let rememberFails = false;
    const app = express();
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const webUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const twitch = await startSimulator({ redirectUri: `${webUrl}/auth/twitch/callback` });
    try {
      app.use(
        sessionMiddleware({
          redis: client,
          prefix: own,
          secret: 's'.repeat(32),
          publicUrl: webUrl,
        }),
        passport.initialize(),
        passport.session() as RequestHandler,
      );
      app.use(
        '/auth',
        twitchLoginRoutes({
          ...SIM_CLIENT,
          authUrl: `${twitch.url}/oauth2`,
          apiUrl: `${twitch.url}/helix`,
          publicUrl: webUrl,
          tokens: {
            ...tokens,
            remember: (...args) =>
              rememberFails
                ? Promise.reject(new Error('a master is away'))
                : tokens.remember(...args),
          },
          saveUser: () => Promise.resolve(),
          onChannelConnected: () => Promise.resolve(),
          streamerScopes: [],
          log: silent,
        }),
      );
      app.get('/whoami', (req, res) => {
        res.json({ user: (req.user as { id?: string } | undefined)?.id ?? null });
      });
      // In place of the app's error middleware, which this test does not mount.
      app.use((_error: unknown, _req: unknown, res: express.Response, _next: unknown) => {
        res.status(500).end();
      });
      const whoami = async (browser: Browser) =>
        ((await (await browser.get(`${webUrl}/whoami`)).json()) as { user: string | null }).user;
      const sessionIds = async () => {
        const ids: string[] = [];
        for await (const keys of scanKeys(client, `${own}:sess:*`)) ids.push(...keys);
        return ids.map((key) => key.slice(`${own}:sess:`.length));
      };

      const viewer = twitch.state.addUser('cluster_viewer');
      const browser = await logInThroughSimulator(webUrl, 'cluster_viewer');
      assert.equal(await whoami(browser), viewer.id);
      const [sid] = await sessionIds();
      assert.ok(sid, 'the session is in Redis');
      assert.deepEqual(await client.smembers(`${own}:user:${viewer.id}:sessions`), [sid]);
      assert.deepEqual(await tokens.users(), [viewer.id]);
      assert.ok((await tokens.get(viewer.id))?.accessToken);

      rememberFails = true;
      const unlucky = twitch.state.addUser('cluster_unlucky');
      const failed = new Browser();
      await assert.rejects(logInThroughSimulator(webUrl, 'cluster_unlucky', failed), /failed: 500/);
      assert.equal(await whoami(failed), null, 'not logged in');
      assert.deepEqual(await sessionIds(), [sid], 'no untracked session was left');
      assert.deepEqual(await tokens.users(), [viewer.id]);
      assert.equal(await tokens.get(unlucky.id), null);

      assert.equal(await tokens.endSessions(viewer.id), 1);
      assert.equal(await whoami(browser), null, 'ending the sessions logs the viewer out');
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await twitch.close();
    }
  });

  it('validates user tokens, ending a revoked one’s sessions, and takes the lock once', async () => {
    const tokens = createUserTokens(client, `${prefix}:tv`);
    const issue = (login: string) => {
      const user = sim.state.addUser(login);
      return { user, token: sim.state.issueUserToken(SIM_CLIENT.clientId, user.id, []) };
    };
    const valid = issue('cluster_valid');
    const expired = issue('cluster_expired');
    const revoked = issue('cluster_revoked');
    expired.token.expiresAt = Date.now() - 1000;
    for (const [sid, { user, token }] of Object.entries({ valid, expired, revoked })) {
      const refreshToken = sid === 'revoked' ? null : token.refreshToken;
      await tokens.remember(user.id, { accessToken: token.accessToken, refreshToken }, sid);
      await client.set(`${prefix}:tv:sess:${sid}`, '{}');
    }
    sim.state.revokeToken(revoked.token.accessToken);
    const options = {
      tokens,
      redis: client,
      prefix: `${prefix}:tv`,
      authUrl: `${sim.url}/oauth2`,
      ...SIM_CLIENT,
    };
    assert.deepEqual(await validateUserTokens({ ...options, log: silent }), {
      valid: 1,
      refreshed: 1,
      ended: 1,
    });
    assert.equal(await client.exists(`${prefix}:tv:sess:revoked`), 0);
    assert.equal(await client.exists(`${prefix}:tv:sess:valid`), 1);
    assert.deepEqual((await tokens.users()).sort(), [valid.user.id, expired.user.id].sort());

    // Two web nodes start at once: one takes the lock and validates, the other leaves it.
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const nodes = [1, 2].map(() => scheduleUserTokenValidation({ ...options, log }, 60_000));
    const ran = () => lines.filter((line) => line.includes('Validated Twitch user tokens'));
    for (let i = 0; i < 50 && ran().length === 0; i++) await sleep(100);
    await sleep(300);
    nodes.forEach((node) => node.stop());
    assert.equal(ran().length, 1, lines.join(''));
    assert.ok((await client.pttl(`${prefix}:tv:lock:validate-user-tokens`)) > 0);
    assert.ok(!lines.some((line) => line.includes('failed')), lines.join(''));
  });

  it('counts rate-limit hits per key on every master, and resets them', async () => {
    const store = createRedisRateLimitStore(client, `${prefix}:ratelimit:api:`);
    await store.init?.({ windowMs: 400 } as never);
    const clients = await spreadOverMasters(
      3,
      (i) => `10.0.0.${i}`,
      (ip) => `${prefix}:ratelimit:api:${ip}`,
    );
    for (const ip of clients) {
      for (let hit = 1; hit <= 3; hit++) assert.equal((await store.increment(ip)).totalHits, hit);
    }
    const [a, b, c] = clients as [string, string, string];
    await store.decrement(a);
    assert.equal((await store.increment(a)).totalHits, 3);
    await store.resetKey(b);
    assert.equal((await store.increment(b)).totalHits, 1);
    await sleep(450);
    assert.equal((await store.increment(c)).totalHits, 1, 'a new window after the old one ended');
  });

  it('refuses a viewer the N+1th new streamer of the day, and gives a released one back', async () => {
    const budget = createNewStreamerBudget(client, prefix, 2);
    const viewers = await spreadOverMasters(
      3,
      (i) => `v${i}`,
      (v) => `${prefix}:favorite:new:${v}`,
    );
    for (const viewer of viewers) {
      const first = await budget.reserve(viewer, 's1');
      assert.equal(first.allowed, true);
      assert.equal((await budget.reserve(viewer, 's2')).allowed, true);
      assert.equal(
        (await budget.reserve(viewer, 's1')).allowed,
        true,
        'the same one costs nothing',
      );
      const third = await budget.reserve(viewer, 's3');
      assert.equal(third.allowed, false);
      assert.ok(!third.allowed && third.retryAfterMs > 0);
      if (first.allowed) await first.release();
      assert.equal((await budget.reserve(viewer, 's3')).allowed, true, 'after a release');
    }
  });

  it('keeps rejected callbacks capped and lists them newest first', async () => {
    const rejected = createRejectedCallbacks(client, prefix);
    for (let i = 0; i < REJECTED_KEPT + 5; i++) {
      await rejected.keep({
        at: new Date().toISOString(),
        reason: 'not_json',
        messageId: `m${i}`,
        messageType: 'notification',
        subscriptionType: null,
        bodyBytes: 1,
        body: '{',
      });
    }
    const kept = await rejected.list();
    assert.equal(kept.length, REJECTED_KEPT);
    assert.equal(kept[0]!.messageId, `m${REJECTED_KEPT + 4}`);
    assert.equal((await rejected.list(3)).length, 3);
  });

  it('processes a callback once: processed-message key, feed append and content dedupe', async () => {
    const queued: unknown[] = [];
    const process = createEventSubCallbackProcessor({
      redis: client,
      prefix,
      dedupeWindowSeconds: 600,
      identify: createEventIdentity(client, prefix, 600),
      cache: createFeedCache(client, prefix),
      queueNotification: (notification) => Promise.resolve(void queued.push(notification)),
      queuePersist: (row) => Promise.resolve(void queued.push(row)),
      revocations: { markRevoked: () => Promise.resolve() },
      endUserSessions: () => Promise.resolve(),
      log: silent,
    });
    const job = (messageId: string, body: string) =>
      ({
        id: messageId,
        data: {
          messageId,
          messageType: 'notification',
          messageTimestamp: new Date().toISOString(),
          messageRetry: null,
          subscriptionType: null,
          subscriptionVersion: null,
          body,
          receivedAt: Date.now(),
        },
      }) as Job<EventSubCallbackJob>;
    const follow = JSON.stringify(followPayload('5101', '77'));
    const messageIds = await spreadOverMasters(
      3,
      (i) => `msg-${i}`,
      (id) => processedMessageKey(prefix, id),
    );
    const first = await process(job(messageIds[0]!, follow));
    assert.equal(first.events.length, 1);
    assert.equal(first.duplicate, false);
    assert.equal(await client.get(processedMessageKey(prefix, messageIds[0]!)), '1');
    assert.ok((await client.ttl(processedMessageKey(prefix, messageIds[0]!))) > 500);
    assert.deepEqual(await process(job(messageIds[0]!, follow)), { duplicate: true, events: [] });
    const queuedOnce = queued.length;
    assert.ok(queuedOnce > 0);

    // stream.offline has no id of its own: a re-send under a new message id is the same event.
    const offline = notificationBody(loadPayloads().get('stream.offline')!);
    const sent = await process(job(messageIds[1]!, offline));
    const resent = await process(job(messageIds[2]!, offline));
    assert.equal(sent.events.length, 1);
    assert.deepEqual(resent, { duplicate: true, events: [] });
    assert.equal(queued.length, queuedOnce * 2, 'the re-send queued nothing');

    const identify = createEventIdentity(client, `${prefix}:id`, 600);
    const event = { broadcaster_user_id: '5102' };
    const input = { broadcasterId: '5102', type: 'stream.offline', event };
    const original = await identify({ ...input, messageId: randomUUID() });
    const again = await identify({ ...input, messageId: randomUUID() });
    assert.deepEqual(again, { id: original.id, duplicateContent: true });
  });

  it('shares the Helix app token through the Cluster and replaces it after a 401', async () => {
    const helix = () =>
      createHelixClient({
        authUrl: `${sim.url}/oauth2`,
        apiUrl: `${sim.url}/helix`,
        ...SIM_CLIENT,
        redis: client,
        redisPrefix: prefix,
      });
    const first = helix();
    const user = sim.state.addUser('cluster_helix');
    assert.deepEqual(
      (await first.getUsers({ ids: [user.id] })).map((u) => u.login),
      ['cluster_helix'],
    );
    const token = await first.appToken();
    assert.equal(await helix().appToken(), token);
    sim.state.revokeToken(token);
    assert.deepEqual(
      (await first.getUsers({ logins: ['cluster_helix'] })).map((u) => u.id),
      [user.id],
    );
    assert.notEqual(await helix().appToken(), token, 'the replacement is shared too');
  });

  it('lists and retries failed jobs, and bull-board shows the queue, on the Cluster', async () => {
    // BullMQ needs each queue's keys in one slot: the shard's name is its hash tag.
    const queue = createQueue(QUEUES.persist, client, prefix, 0);
    const workerClient = new Cluster(
      cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
      { redisOptions: { maxRetriesPerRequest: null } },
    );
    try {
      await queue.add('persist-event', { n: 1 }, { jobId: 'j1', attempts: 1 });
      await queue.add('persist-event', { n: 2 }, { jobId: 'j2', attempts: 1 });
      const worker = new Worker(
        queue.name,
        () => Promise.reject(new Error('database away\n✖ twice')),
        { connection: workerClient, prefix: bullPrefix(prefix) },
      );
      for (let i = 0; i < 100 && (await queue.getFailedCount()) < 2; i++) await sleep(100);
      await worker.close();
      const listed = await runFailedJobs([queue], {
        action: 'list',
        queue: 'eventPersist',
        limit: 10,
      });
      assert.equal(listed[0], '2 failed job(s) in eventPersist');
      assert.match(
        listed.slice(1).join('\n'),
        /j1\tpersist-event\tattempts=1\t.*database away; ✖ twice/,
      );

      const app = express();
      app.use((req, _res, next) => {
        (req as { user?: unknown }).user = { id: '1', login: 'ops' };
        next();
      });
      app.use(
        '/admin/queues',
        queueDashboard({
          queues: [queue],
          operators: { userIds: new Set(['1']), logins: new Set() },
          log: silent,
        }),
      );
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      try {
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/queues/api`;
        const queues = (await (await fetch(`${base}/queues`)).json()) as {
          queues: { name: string; counts: { failed: number } }[];
        };
        assert.deepEqual(
          queues.queues.map((q) => [q.name, q.counts.failed]),
          [[queueShardName(QUEUES.persist, 0), 2]],
        );
        const stats = await fetch(`${base}/redis/stats`);
        assert.equal(stats.status, 200);
        assert.equal(((await stats.json()) as { mode: string }).mode, 'cluster');
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }

      const retried = await runFailedJobs([queue], {
        action: 'retry',
        queue: 'eventPersist',
        jobIds: [],
      });
      assert.equal(retried.at(-1), '2 job(s) queued again in eventPersist');
      assert.equal(await queue.getFailedCount(), 0);
      assert.equal(await queue.getWaitingCount(), 2);
    } finally {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      workerClient.disconnect();
    }
  });

  it('deleteKeys removes a prefix’s keys from every master', async () => {
    const own = `${prefix}:del`;
    const keys = await spreadOverMasters(30, (i) => `${own}:k${i}`);
    for (const key of keys) await client.set(key, '1');
    const counted = async () => {
      let n = 0;
      for await (const batch of scanKeys(client, `${own}:*`)) n += batch.length;
      return n;
    };
    assert.equal(await counted(), 30, 'a scan of every master finds them all');
    const oneNode = await client.nodes('master')[0]!.scan('0', 'MATCH', `${own}:*`, 'COUNT', 1000);
    assert.ok(oneNode[1].length < 30, 'one node alone holds only some');
    await deleteKeys(client, own);
    assert.equal(await counted(), 0);
    for (const key of keys) assert.equal(await client.exists(key), 0, key);
  });

  it("puts a streamer's queues, feed keys and channel on one master (3 shards, 3 masters)", async () => {
    await client.cluster('SLOTS'); // the map as the cluster has it now
    const masterOf = (key: string) => client.slots[calculateSlot(key)]?.[0];
    const masters = new Set<string | undefined>();
    for (let n = 0; n < 60; n++) {
      const id = String(7_000_000 + n * 131);
      const shard = streamerShard(id, 3);
      const feed = masterOf(feedKeys(prefix, id).seq);
      assert.ok(feed, `streamer ${id}'s feed has a master`);
      masters.add(feed);
      assert.equal(masterOf(feedChannel(prefix, id)), feed);
      for (const kind of [QUEUES.callbacks, QUEUES.notifications, QUEUES.persist]) {
        const queueKey = `${bullPrefix(prefix)}:${queueShardName(kind, shard)}:wait`;
        assert.equal(masterOf(queueKey), feed, `${kind} shard ${shard} with streamer ${id}`);
      }
    }
    assert.equal(masters.size, 3, 'the 60 streamers are spread over all three masters');
  });

  it('no node answered CROSSSLOT to anything above (and the count does see one)', async () => {
    const crossSlotErrors = async () => {
      let total = 0;
      for (const node of client.nodes('master')) {
        const stats = await node.info('errorstats');
        total += Number(/errorstat_CROSSSLOT:count=(\d+)/.exec(stats)?.[1] ?? 0);
      }
      return total;
    };
    assert.equal(await crossSlotErrors(), 0);
    // The control: a command across two slots of one master is refused by it, and counted.
    const a = `${prefix}:x`;
    let b = `${prefix}:y0`;
    for (let i = 1; (await masterOf(b)) !== (await masterOf(a)); i++) b = `${prefix}:y${i}`;
    await assert.rejects(client.mget(a, b), /CROSSSLOT/);
    assert.equal(await crossSlotErrors(), 1);
  });
});

describe('readiness on a Redis Cluster', function () {
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

  it('is down while a master is gone, and ready again once its replica took over', async () => {
    await client.set('warm-up', '1');
    const probe = () => readiness([redisCheck(client)], 1500);
    assert.deepEqual(await probe(), { ok: true, checks: { redis: 'ok' } });
    // A replica can take over only once it is in sync (WAIT: replication is asynchronous).
    for (const master of client.nodes('master')) assert.equal(await master.wait(1, 5000), 1);
    const [victim] = await cluster.masters();
    await cluster.kill(victim!.port);
    // Most PINGs land on a live master: one of them answering does not make the slots servable.
    assert.deepEqual(await probe(), { ok: false, checks: { redis: 'down' } });

    await cluster.waitUntilHealthy();
    let ready = await probe();
    for (let i = 0; i < 100 && !ready.ok; i++) {
      await sleep(100);
      ready = await probe();
    }
    assert.deepEqual(ready, { ok: true, checks: { redis: 'ok' } }, 'after the failover');
    assert.ok(!(await cluster.masters()).some((master) => master.port === victim!.port));
  });
});
