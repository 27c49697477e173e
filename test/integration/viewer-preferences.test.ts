import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { startStackWithSimulator, type RunningSimulator } from '../helpers/simulator.js';
import type { Stack } from '../helpers/stack.js';
import { Browser, logInThroughSimulator } from '../helpers/cookie-browser.js';
import { createEventStore } from '../../src/shared/db/event-store.js';
import { EVENT_KIND_IDS, typesShownFor } from '../../src/shared/events/event-kinds.js';
import type { StreamEvent } from '../../src/shared/events/event.js';

type ErrorBody = { error: { code: string; message: string } };
type PlanNode = Record<string, unknown> & { Plan: PlanNode; Plans?: PlanNode[] };
const flatten = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(flatten)];

describe('viewer preferences and the filtered history (real PostgreSQL and Redis)', function () {
  this.timeout(90_000);
  let sim: RunningSimulator;
  let stack: Stack;
  let viewer: Browser;

  const put = (browser: Browser, body: string, headers: Record<string, string> = {}) =>
    browser.get(`${stack.webUrl}/api/me/preferences`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  const me = async (browser: Browser) => {
    const response = await browser.get(`${stack.webUrl}/api/me`);
    assert.equal(response.status, 200);
    return (await response.json()) as { preferences: { hiddenKinds: string[] } };
  };

  before(async () => {
    ({ sim, stack } = await startStackWithSimulator({
      without: ['processor', 'emitter', 'realtime'],
    }));
    viewer = await logInThroughSimulator(stack.webUrl, 'prefs_viewer');
  });
  after(async () => {
    await stack?.stop();
    await sim?.close();
  });

  it('GET /api/me hides nothing by default; PUT changes it, and another login reads it back', async () => {
    assert.deepEqual((await me(viewer)).preferences, { hiddenKinds: [] });
    const response = await put(viewer, JSON.stringify({ hiddenKinds: ['raids', 'follows'] }));
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.ok(response.headers.get('ratelimit'), 'the /api rate limit counts it');
    // Stored in the kinds' own order, whatever order the page sent.
    assert.deepEqual(await response.json(), { preferences: { hiddenKinds: ['follows', 'raids'] } });
    const elsewhere = await logInThroughSimulator(stack.webUrl, 'prefs_viewer');
    assert.deepEqual((await me(elsewhere)).preferences.hiddenKinds, ['follows', 'raids']);
    const row = await stack
      .knex('users')
      .where({ login: 'prefs_viewer' })
      .first<{ hidden_event_kinds: string[] }>('hidden_event_kinds');
    assert.deepEqual(row.hidden_event_kinds, ['follows', 'raids']);
    // Every kind at once is a choice too, and [] shows everything again.
    assert.equal((await put(viewer, JSON.stringify({ hiddenKinds: EVENT_KIND_IDS }))).status, 200);
    assert.deepEqual((await me(elsewhere)).preferences.hiddenKinds, EVENT_KIND_IDS);
    assert.equal((await put(viewer, JSON.stringify({ hiddenKinds: [] }))).status, 200);
    assert.deepEqual((await me(viewer)).preferences.hiddenKinds, []);
  });

  it('refuses bad input with 400 and a message that names the problem, changing nothing', async () => {
    await put(viewer, JSON.stringify({ hiddenKinds: ['cheers'] }));
    const cases: Array<[string, number, string, RegExp, Record<string, string>?]> = [
      [
        '{"hiddenKinds":["follows","dances"]}',
        400,
        'unknown_kind',
        /"dances" is not an event kind/,
      ],
      ['{"hiddenKinds":["raids","raids"]}', 400, 'duplicate_kind', /"raids" more than once/],
      ['{"hiddenKinds":"follows"}', 400, 'invalid_preferences', /hiddenKinds must be an array/],
      ['{"hiddenKinds":[1]}', 400, 'unknown_kind', /1 is not an event kind/],
      ['{"hiddenKinds":[null]}', 400, 'unknown_kind', /null is not an event kind/],
      ['{}', 400, 'invalid_preferences', /hiddenKinds must be an array/],
      ['["follows"]', 400, 'invalid_preferences', /must be a JSON object/],
      ['null', 400, 'bad_request', /Malformed request body/],
      ['{"hiddenKinds":[],"theme":"dark"}', 400, 'invalid_preferences', /Unknown field "theme"/],
      ['{"hiddenKinds":[', 400, 'bad_request', /Malformed request body/],
      [
        'hiddenKinds=follows',
        400,
        'invalid_preferences',
        /application\/json/,
        {
          'content-type': 'application/x-www-form-urlencoded',
        },
      ],
      [
        JSON.stringify({ hiddenKinds: Array.from({ length: 200 }, () => 'follows') }),
        413,
        'payload_too_large',
        /too large/,
      ],
    ];
    for (const [body, status, code, message, headers] of cases) {
      const response = await put(viewer, body, headers);
      const answer = (await response.json()) as ErrorBody;
      assert.equal(response.status, status, `${body}: ${JSON.stringify(answer)}`);
      assert.equal(answer.error.code, code, body);
      assert.match(answer.error.message, message, body);
    }
    assert.deepEqual((await me(viewer)).preferences.hiddenKinds, ['cheers'], 'unchanged');
  });

  it('answers 401 without a session and 403 to another origin', async () => {
    const anonymous = await put(new Browser(), JSON.stringify({ hiddenKinds: [] }));
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as ErrorBody).error.code, 'unauthorized');
    assert.equal((await new Browser().get(`${stack.webUrl}/api/me`)).status, 401);
    const forged = await put(viewer, JSON.stringify({ hiddenKinds: [] }), {
      origin: 'https://evil.example',
    });
    assert.equal(forged.status, 403);
    assert.equal(((await forged.json()) as ErrorBody).error.code, 'cross_origin');
    assert.deepEqual((await me(viewer)).preferences.hiddenKinds, ['cheers'], 'unchanged');
  });

  describe('history with ?kinds= and per-minute counts', () => {
    const broadcasterId = '777001';
    const FOLLOWS = 20_000;
    const OLD_DAY = Date.parse('2026-11-15T10:00:00Z');
    let raidIds: string[];

    const event = (i: number, type: string, occurredAt: string): StreamEvent => ({
      id: `ev_kinds_${i}`,
      type,
      broadcasterId,
      broadcasterLogin: 'kinds_streamer',
      broadcasterName: 'Kinds_Streamer',
      occurredAt,
      actor: null,
      summary: `${type} ${i}`,
      data: {},
    });

    before(async function () {
      this.timeout(120_000);
      const store = createEventStore(stack.knex);
      const now = Date.now();
      // A follow-heavy feed: 20,000 follows, and a raid every 1,000th event.
      const types = (i: number) => (i % 1000 === 999 ? 'channel.raid' : 'channel.follow');
      for (let start = 0; start < FOLLOWS; start += 1000) {
        await store.insert(
          Array.from({ length: 1000 }, (_, k) => {
            const i = start + k;
            // The newest 120 within the last two hours, a minute apart; the rest on one day
            // of a past month, one each 4 s from 10:00 to about 08:00 the next day.
            const at = i >= FOLLOWS - 120 ? now - (FOLLOWS - i) * 60_000 : OLD_DAY + i * 4000;
            return {
              event: event(i, types(i), new Date(at).toISOString()),
              messageId: null,
              seq: i + 1,
            };
          }),
        );
      }
      await stack.knex.raw('ANALYZE events');
      raidIds = Array.from({ length: FOLLOWS }, (_, i) => i)
        .filter((i) => types(i) === 'channel.raid')
        .reverse()
        .map((i) => `ev_kinds_${i}`);
    });

    const events = async (query: string) => {
      const response = await fetch(
        `${stack.webUrl}/api/streamers/${broadcasterId}/events?${query}`,
      );
      return {
        status: response.status,
        body: (await response.json()) as { events: StreamEvent[] } & ErrorBody,
      };
    };

    it('fills a page with the shown kinds only, and pages on with before=', async () => {
      const first = await events('kinds=raids&limit=5');
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.deepEqual(
        first.body.events.map((e) => e.id),
        raidIds.slice(0, 5),
      );
      const next = await events(`kinds=raids&limit=5&before=${raidIds[4]}`);
      assert.deepEqual(
        next.body.events.map((e) => e.id),
        raidIds.slice(5, 10),
      );
      const both = await events('kinds=raids,follows&limit=3');
      assert.deepEqual(
        both.body.events.map((e) => e.id),
        ['ev_kinds_19999', 'ev_kinds_19998', 'ev_kinds_19997'],
      );
      const none = await events('kinds=&limit=5');
      assert.deepEqual(none.body.events, [], 'no kind shown, no always-shown event stored');
      const unfiltered = await events('limit=2');
      assert.deepEqual(
        unfiltered.body.events.map((e) => e.id),
        ['ev_kinds_19999', 'ev_kinds_19998'],
      );
    });

    it('refuses an unknown, repeated or doubled kind with 400', async () => {
      for (const [query, message] of [
        ['kinds=raids,dances', /"dances" is not an event kind/],
        ['kinds=raids&kinds=follows', /given once/],
        ['kinds=raids,raids', /"raids" more than once/],
        ['kinds=raids&after=ev_kinds_5', /not after=/],
      ] as const) {
        const answer = await events(query);
        assert.equal(answer.status, 400, query);
        assert.match(answer.body.error.message, message, query);
      }
    });

    it('reads a filtered page and the per-minute counts with index seeks (EXPLAIN)', async () => {
      // Where the old rows went: the partition of that past month.
      const { rows: where } = await stack.knex.raw<{ rows: Array<{ relation: string }> }>(
        "SELECT tableoid::regclass::text AS relation FROM events WHERE id = 'ev_kinds_0'",
      );
      const bigPartition = where[0]!.relation;
      const captured: Array<{ sql: string; bindings: readonly unknown[] }> = [];
      const capture = (query: { sql: string; bindings: readonly unknown[] }) =>
        captured.push(query);
      stack.knex.on('query', capture);
      const store = createEventStore(stack.knex);
      try {
        await store.listBefore(broadcasterId, 10, undefined, typesShownFor(['raids']));
        // 11:00 to 12:00 of that day: 900 of the 20,000 rows.
        await store.countsPerMinute(
          broadcasterId,
          new Date(OLD_DAY + 3_600_000),
          new Date(OLD_DAY + 7_200_000),
        );
      } finally {
        stack.knex.off('query', capture);
      }
      const [page, perMinute] = captured;
      for (const [query, index, most] of [
        [page!, 'broadcaster_id_type_seq_id_idx', 200],
        [perMinute!, 'broadcaster_id_occurred_at_id_idx', 1000],
      ] as const) {
        const { rows } = await stack.knex.raw<{ rows: Array<{ 'QUERY PLAN': unknown }> }>(
          // pg's $n placeholders, in order, as knex's ?.
          `EXPLAIN (ANALYZE, FORMAT JSON) ${query.sql.replace(/\$\d+/g, '?')}`,
          query.bindings as Knex.RawBinding[],
        );
        const plan = (rows[0]!['QUERY PLAN'] as PlanNode[])[0]!.Plan;
        const nodes = flatten(plan);
        const text = JSON.stringify(plan);
        // The partition that holds the 20,000 rows is read through the index...
        const big = nodes.filter((n) => n['Relation Name'] === bigPartition);
        assert.ok(big.length > 0, `the partition with the rows is read: ${text}`);
        // (an index scan, or a bitmap heap scan fed by a bitmap index scan)...
        for (const node of big) {
          assert.match(String(node['Node Type']), /Index Scan|Bitmap Heap Scan/, text);
          const used = flatten(node).find((n) => n['Index Name'] !== undefined);
          assert.equal(used?.['Index Name'], `${bigPartition}_${index}`, text);
        }
        // ...and the planner may only scan partitions too small for an index to pay.
        for (const node of nodes.filter((n) => n['Node Type'] === 'Seq Scan')) {
          assert.ok(Number(node['Rows Removed by Filter'] ?? 0) <= 200, `a small table: ${text}`);
        }
        const read = nodes.map((n) => Number(n['Actual Rows'] ?? 0));
        assert.ok(
          Math.max(...read) <= most,
          `at most ${most} rows read, not 20,000: ${read.join()}`,
        );
      }
    });

    it('counts events per minute over the last hour, by kind', async () => {
      const response = await fetch(
        `${stack.webUrl}/api/streamers/${broadcasterId}/events/per-minute`,
      );
      assert.equal(response.status, 200);
      const body = (await response.json()) as {
        from: string;
        bucketSeconds: number;
        counts: Record<string, number[]>;
      };
      assert.equal(body.bucketSeconds, 60);
      assert.deepEqual(Object.keys(body.counts), [...EVENT_KIND_IDS, 'other']);
      for (const counts of Object.values(body.counts)) assert.equal(counts.length, 60);
      const since = Date.parse(body.from);
      const stored = await stack
        .knex('events')
        .where({ broadcaster_id: broadcasterId })
        .where('occurred_at', '>=', new Date(since).toISOString())
        .select('type')
        .count('* as n')
        .groupBy<Array<{ type: string; n: string }>>('type');
      const byType: Record<string, number> = Object.fromEntries(
        stored.map((r) => [r.type, Number(r.n)]),
      );
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      assert.ok(
        sum(body.counts.follows!) >= 55,
        `about an hour of one follow a minute: ${sum(body.counts.follows!)}`,
      );
      assert.equal(sum(body.counts.follows!), byType['channel.follow'] ?? 0);
      assert.equal(sum(body.counts.raids!), byType['channel.raid'] ?? 0);
      assert.equal(sum(body.counts.cheers!), 0);
      const bad = await fetch(`${stack.webUrl}/api/streamers/%00/events/per-minute`);
      assert.equal(bad.status, 400);
    });
  });
});
