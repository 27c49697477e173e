import assert from 'node:assert/strict';
import type { Stack } from '../helpers/stack.js';
import { startStackWithSimulator, waitUntil, type RunningSimulator } from '../helpers/simulator.js';
import { logInThroughSimulator, type Browser } from '../helpers/cookie-browser.js';

interface ErrorBody {
  error: { code: string; message: string };
}

/** `PUT /api/me/favorite` as the page sends it. */
const putFavorite = (stack: Stack, browser: Browser, login: string) =>
  browser.get(`${stack.webUrl}/api/me/favorite`, {
    method: 'PUT',
    body: JSON.stringify({ login }),
    headers: { 'content-type': 'application/json' },
  });

const favoriteOf = async (stack: Stack, browser: Browser) =>
  ((await (await browser.get(`${stack.webUrl}/api/me`)).json()) as { favorite: { login: string } })
    .favorite?.login;

/** Subscriptions on the simulator whose condition names `broadcasterId`, by status. */
const subscriptionsOf = (sim: RunningSimulator, broadcasterId: string, status?: string) =>
  [...sim.state.subscriptions.values()].filter(
    (s) => Object.values(s.condition).includes(broadcasterId) && (!status || s.status === status),
  );

describe('what one viewer may cost: favourite changes and new streamers', function () {
  this.timeout(60_000);
  let sim: RunningSimulator;
  let stack: Stack;

  before(async () => {
    ({ sim, stack } = await startStackWithSimulator({
      without: ['emitter', 'realtime'],
      env: { RATE_LIMIT_FAVORITE_MAX: '5', FAVORITE_NEW_STREAMERS_PER_DAY: '2' },
    }));
    for (const login of ['limit_one', 'limit_two', 'limit_three', 'limit_four', 'limit_five']) {
      sim.state.addUser(login);
    }
  });
  after(async () => {
    await stack?.stop();
    await sim?.close();
  });

  it('refuses a viewer the changes over RATE_LIMIT_FAVORITE_MAX per window, with 429 and Retry-After', async () => {
    const churner = await logInThroughSimulator(stack.webUrl, 'rate_churner');
    const other = await logInThroughSimulator(stack.webUrl, 'rate_bystander');
    // Two streamers alternated: neither is new after the first time, so only the rate counts.
    for (const login of ['limit_one', 'limit_two', 'limit_one', 'limit_two', 'limit_one']) {
      assert.equal((await putFavorite(stack, churner, login)).status, 200, login);
    }
    const refused = await putFavorite(stack, churner, 'limit_two');
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    const body = (await refused.json()) as ErrorBody;
    assert.equal(body.error.code, 'rate_limited');
    assert.match(body.error.message, /at most 5 per 60 s.*unchanged/);
    assert.equal(await favoriteOf(stack, churner), 'limit_one', 'the refused change lost nothing');
    // Counted per viewer, not per address: the same address, another account, is not refused.
    assert.equal((await putFavorite(stack, other, 'limit_one')).status, 200);
  });

  it('refuses a viewer more than FAVORITE_NEW_STREAMERS_PER_DAY streamers new to streamfeed', async () => {
    const viewer = await logInThroughSimulator(stack.webUrl, 'new_churner');
    assert.equal((await putFavorite(stack, viewer, 'limit_three')).status, 200);
    assert.equal((await putFavorite(stack, viewer, 'limit_four')).status, 200);
    const five = sim.state.userByLogin('limit_five')!;
    const refused = await putFavorite(stack, viewer, 'limit_five');
    assert.equal(refused.status, 429);
    const body = (await refused.json()) as ErrorBody;
    assert.equal(body.error.code, 'too_many_new_streamers');
    assert.match(body.error.message, /2 streamers new to streamfeed in the last 24 hours/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter > 86_000 && retryAfter <= 86_400, `Retry-After ${retryAfter}`);
    assert.equal(await favoriteOf(stack, viewer), 'limit_four', 'the favourite is unchanged');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(subscriptionsOf(sim, five.id).length, 0, 'nothing was subscribed for it');

    // One of its own two again costs nothing more; so does a streamer streamfeed already follows
    // (limit_one, fully subscribed by the test above), whoever brought it in.
    const one = sim.state.userByLogin('limit_one')!;
    await waitUntil(
      () => subscriptionsOf(sim, one.id, 'enabled').length === 5,
      20_000,
      'limit_one',
    );
    await waitUntil(
      async () =>
        (await stack.knex('eventsub_subscriptions').where({ broadcaster_id: one.id }).select())
          .length === 5,
      20_000,
      'limit_one recorded',
    );
    assert.equal((await putFavorite(stack, viewer, 'limit_three')).status, 200);
    assert.equal((await putFavorite(stack, viewer, 'limit_one')).status, 200);
    assert.equal(await favoriteOf(stack, viewer), 'limit_one');
  });
});

describe('one viewer churning favourites does not hold up another viewer', function () {
  this.timeout(120_000);
  const CHURN = 30;
  let sim: RunningSimulator;
  let stack: Stack;

  before(async () => {
    // Limits raised out of the way: what is measured is the queue alone.
    ({ sim, stack } = await startStackWithSimulator({
      without: ['emitter', 'realtime'],
      env: { RATE_LIMIT_FAVORITE_MAX: '1000', FAVORITE_NEW_STREAMERS_PER_DAY: '1000' },
    }));
    for (let i = 0; i < CHURN; i++) sim.state.addUser(`churned_${i}`);
    sim.state.addUser('wanted_streamer');
  });
  after(async () => {
    await stack?.stop();
    await sim?.close();
  });

  it("gets a new favourite's subscriptions in seconds, not behind the churner's queue", async () => {
    const churner = await logInThroughSimulator(stack.webUrl, 'queue_churner');
    const viewer = await logInThroughSimulator(stack.webUrl, 'queue_viewer');
    for (let i = 0; i < CHURN; i++) {
      assert.equal((await putFavorite(stack, churner, `churned_${i}`)).status, 200);
    }
    const started = Date.now();
    assert.equal((await putFavorite(stack, viewer, 'wanted_streamer')).status, 200);
    const wanted = sim.state.userByLogin('wanted_streamer')!;
    await waitUntil(
      () => subscriptionsOf(sim, wanted.id).length === 5,
      60_000,
      "the viewer's five subscriptions",
    );
    const waited = Date.now() - started;
    const churnedDone = Array.from({ length: CHURN }, (_, i) =>
      sim.state.userByLogin(`churned_${i}`),
    ).filter((u) => subscriptionsOf(sim, u!.id).length === 5).length;
    console.log(
      `      the viewer waited ${waited} ms for their subscriptions; ${churnedDone} of the churner's ${CHURN} streamers were subscribed by then`,
    );
    // The worker runs 2 jobs a second: behind the churner's queue the wait would be ~15 s.
    assert.ok(waited < 5000, `the viewer waited ${waited} ms`);
    assert.ok(churnedDone < CHURN, "the viewer's job went ahead of the churner's");
  });
});

describe("the issue's attack at the default limits: 150 favourite changes in a row", function () {
  this.timeout(120_000);
  const ATTEMPTS = 150;
  let sim: RunningSimulator;
  let stack: Stack;

  before(async () => {
    ({ sim, stack } = await startStackWithSimulator({ without: ['emitter', 'realtime'] }));
    for (let i = 0; i < ATTEMPTS; i++) sim.state.addUser(`attack_${i}`);
  });
  after(async () => {
    await stack?.stop();
    await sim?.close();
  });

  it('accepts RATE_LIMIT_FAVORITE_MAX of them, and Twitch cost grows by 5 per accepted streamer only', async () => {
    const attacker = await logInThroughSimulator(stack.webUrl, 'cost_attacker');
    const costBefore = [...sim.state.subscriptions.values()].reduce((sum, s) => sum + s.cost, 0);
    const statuses = new Map<number, number>();
    const started = Date.now();
    for (let i = 0; i < ATTEMPTS; i++) {
      const { status } = await putFavorite(stack, attacker, `attack_${i}`);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    const took = Date.now() - started;
    assert.deepEqual(Object.fromEntries(statuses), { 200: 10, 429: ATTEMPTS - 10 });
    const target = () =>
      [...sim.state.subscriptions.values()].filter((s) => s.status === 'enabled').length >= 50;
    await waitUntil(target, 30_000, "the accepted favourites' subscriptions");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const costAfter = [...sim.state.subscriptions.values()].reduce((sum, s) => sum + s.cost, 0);
    console.log(
      `      ${ATTEMPTS} PUTs in ${took} ms: ${statuses.get(200)} accepted, ${statuses.get(429)} refused; Twitch cost ${costBefore} -> ${costAfter}`,
    );
    assert.equal(costAfter - costBefore, 50, 'the 10 accepted streamers, 5 subscriptions each');
  });
});
