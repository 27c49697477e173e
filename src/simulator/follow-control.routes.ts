import express, { Router } from 'express';
import { z } from 'zod';
import { buildEvent } from './event-factory.js';
import type { SimState } from './sim-state.js';
import type { WebhookDelivery } from './webhook-delivery.js';
import type { FollowerStore } from './followers.js';

const followsSchema = z.object({
  broadcasterId: z.string().min(1),
  /** Who follows, in the order they follow; made as users when new. */
  logins: z
    .array(z.string().regex(/^[a-zA-Z0-9_]{4,25}$/, 'logins must be 4-25 letters, digits or _'))
    .min(1)
    .max(1000),
  /** false (the default): the follows happen on Twitch, but no webhook tells anyone. */
  deliver: z.boolean().default(false),
});

/**
 * `POST /sim/follows`: follows on a channel, recorded for Helix `GET /channels/followers`, and
 * delivered to the channel's `channel.follow` subscriptions only with `deliver: true`; so a test
 * can make follows happen while streamfeed is stopped, or its webhooks lost.
 */
export function createFollowControlRouter(
  state: SimState,
  delivery: WebhookDelivery,
  followers: FollowerStore,
): Router {
  const router = Router();
  let last = 0;
  // Each follow after the one before, to the millisecond, so that `followed_at` orders them as made.
  const nextTime = () => {
    last = Math.max(state.now(), last + 1);
    return new Date(last).toISOString().replace(/Z$/, '000000Z');
  };
  router.post('/follows', express.json({ limit: '64kb' }), async (req, res) => {
    const parsed = followsSchema.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: z.prettifyError(parsed.error) });
    const { broadcasterId, logins, deliver } = parsed.data;
    const broadcaster = state.users.get(broadcasterId);
    if (!broadcaster) return void res.status(404).json({ error: `no user ${broadcasterId}` });
    const channel = {
      id: broadcaster.id,
      login: broadcaster.login,
      displayName: broadcaster.displayName,
    };
    const events = logins.map((login) => {
      const user = state.addUser(login);
      const { event } = buildEvent('channel.follow', {
        broadcaster: channel,
        user: { id: user.id, login: user.login, displayName: user.displayName },
        overrides: { followed_at: nextTime() },
      });
      followers.follow({
        broadcasterId,
        userId: user.id,
        userLogin: user.login,
        userName: user.displayName,
        followedAt: String(event.followed_at),
      });
      return event;
    });
    const targets = deliver
      ? [...state.subscriptions.values()].filter(
          (s) =>
            s.type === 'channel.follow' &&
            s.status === 'enabled' &&
            s.condition.broadcaster_user_id === broadcasterId,
        )
      : [];
    const deliveries = [];
    for (const event of events) {
      for (const sub of targets) deliveries.push(await delivery.notify(sub, event));
    }
    res.json({ events, deliveries });
  });
  return router;
}
