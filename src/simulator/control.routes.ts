import express, { Router } from 'express';
import { z } from 'zod';
import { buildEvent, EVENT_TYPES, type FakeUser } from './event-factory.js';
import type { SimState, SimUser } from './sim-state.js';
import { subscriptionView, type WebhookDelivery } from './webhook-delivery.js';
import type { FollowerStore } from './followers.js';

const userSchema = z.object({
  login: z.string().regex(/^[a-zA-Z0-9_]{4,25}$/, 'login must be 4-25 letters, digits or _'),
  displayName: z.string().min(1).max(50).optional(),
  id: z
    .string()
    .regex(/^[0-9]{1,20}$/)
    .optional(),
  /** As if the user had logged in to that client and granted these scopes. */
  grant: z.object({ clientId: z.string().min(1), scopes: z.array(z.string()) }).optional(),
});
const eventSchema = z.object({
  type: z.string().refine((t) => EVENT_TYPES.includes(t), 'unknown event type'),
  broadcasterId: z.string().min(1),
  userLogin: z.string().optional(),
  overrides: z.record(z.string(), z.unknown()).optional(),
});

const followOf = (broadcasterId: string, event: Record<string, unknown>) => ({
  broadcasterId,
  userId: String(event.user_id),
  userLogin: String(event.user_login),
  userName: String(event.user_name),
  followedAt: String(event.followed_at),
});

const followRaidSchema = z.object({
  broadcasterId: z.string().min(1),
  count: z.number().int().min(1).max(10_000),
  seconds: z.number().min(0).max(600).default(10),
});

const fake = (user: SimUser): FakeUser => ({
  id: user.id,
  login: user.login,
  displayName: user.displayName,
});

/** Which enabled subscriptions an event of `type` about `broadcasterId` is delivered to. */
function matches(condition: Record<string, string>, broadcasterId: string): boolean {
  return [
    condition.broadcaster_user_id,
    condition.to_broadcaster_user_id,
    condition.from_broadcaster_user_id,
  ].includes(broadcasterId);
}

/**
 * Simulator-only control API (`/sim`): make users and make things happen on a channel, so that
 * tests, the dev stack and benchmarks can drive "Twitch" without a real streamer.
 */
export function createControlRouter(
  state: SimState,
  delivery: WebhookDelivery,
  followers?: FollowerStore,
): Router {
  const router = Router();
  router.use(express.json({ limit: '64kb' }));

  router.get('/users', (_req, res) => {
    res.json({ data: [...state.users.values()] });
  });
  router.post('/users', (req, res) => {
    const parsed = userSchema.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: z.prettifyError(parsed.error) });
    const { login, grant, ...extra } = parsed.data;
    const user = state.addUser(login, extra);
    if (grant) state.grant(user.id, grant.clientId, grant.scopes);
    res.status(201).json(user);
  });

  router.get('/subscriptions', (_req, res) => {
    res.json({ data: [...state.subscriptions.values()].map(subscriptionView) });
  });

  router.post('/events', async (req, res) => {
    const parsed = eventSchema.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: z.prettifyError(parsed.error) });
    const { type, broadcasterId, userLogin, overrides } = parsed.data;
    const broadcaster = state.users.get(broadcasterId);
    if (!broadcaster) return void res.status(404).json({ error: `no user ${broadcasterId}` });
    // A pool of viewers, so that a long demo stream does not grow the simulator without bound.
    const user = state.addUser(userLogin ?? `viewer_${Math.floor(Math.random() * 200)}`);
    const targets = [...state.subscriptions.values()].filter(
      (s) => s.type === type && s.status === 'enabled' && matches(s.condition, broadcasterId),
    );
    const built = buildEvent(type, {
      broadcaster: fake(broadcaster),
      user: fake(user),
      ...(overrides ? { overrides } : {}),
    });
    // Helix lists every follow, delivered or not (GET /helix/channels/followers).
    if (type === 'channel.follow') followers?.follow(followOf(broadcasterId, built.event));
    const deliveries = await Promise.all(
      targets.map(async (sub) => ({
        subscriptionId: sub.id,
        ...(await delivery.notify(sub, built.event)),
      })),
    );
    res.json({ event: built.event, deliveries });
  });

  // A follow-bot raid: `count` new accounts follow the channel, spread evenly over `seconds`.
  // Answers once every follow was delivered, with how many were.
  router.post('/follow-raids', async (req, res) => {
    const parsed = followRaidSchema.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: z.prettifyError(parsed.error) });
    const { broadcasterId, count, seconds } = parsed.data;
    const broadcaster = state.users.get(broadcasterId);
    if (!broadcaster) return void res.status(404).json({ error: `no user ${broadcasterId}` });
    const targets = [...state.subscriptions.values()].filter(
      (s) =>
        s.type === 'channel.follow' &&
        s.status === 'enabled' &&
        matches(s.condition, broadcasterId),
    );
    const raid = Math.random().toString(36).slice(2, 8);
    const started = Date.now();
    const sends: Array<Promise<boolean[]>> = [];
    for (let i = 0; i < count; i++) {
      const due = started + (i * seconds * 1000) / count;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      const bot = state.addUser(`bot${raid}_${i}`);
      const built = buildEvent('channel.follow', {
        broadcaster: fake(broadcaster),
        user: fake(bot),
      });
      sends.push(
        Promise.all(
          targets.map(async (sub) => (await delivery.notify(sub, built.event)).delivered),
        ),
      );
    }
    const results = (await Promise.all(sends)).flat();
    res.json({
      follows: count,
      deliveries: results.length,
      delivered: results.filter(Boolean).length,
      seconds: (Date.now() - started) / 1000,
    });
  });
  return router;
}
