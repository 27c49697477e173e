import express, { type Express } from 'express';
import { createControlRouter } from './control.routes.js';
import { createEventSubRouter } from './eventsub.routes.js';
import { createHelixUsersRouter } from './helix-users.routes.js';
import { createHelixFollowersRouter } from './helix-followers.routes.js';
import { createFollowerStore } from './followers.js';
import { createFollowControlRouter } from './follow-control.routes.js';
import { createOAuthRouter } from './oauth.routes.js';
import { createSimState, type SimClient } from './sim-state.js';
import { createWebhookDelivery, type DeliveryOptions } from './webhook-delivery.js';

export interface SimulatorOptions extends DeliveryOptions {
  clients: SimClient[];
  requireHttpsCallback?: boolean;
  rateLimit?: number;
  /** Subscriptions per page of `GET /eventsub/subscriptions`. */
  pageSize?: number;
  maxTotalCost?: number;
  now?: () => number;
}

/** The whole Twitch stand-in: OAuth at /oauth2, Helix at /helix, the control API at /sim. */
export function createSimulator(options: SimulatorOptions) {
  const state = createSimState({
    clients: options.clients,
    ...(options.now ? { now: options.now } : {}),
  });
  const delivery = createWebhookDelivery(state, options);
  const followers = createFollowerStore();
  const app: Express = express();
  app.disable('x-powered-by');
  app.use('/oauth2', createOAuthRouter(state));
  app.use('/helix', createHelixUsersRouter(state, options.rateLimit));
  app.use('/helix', createHelixFollowersRouter(state, followers, options.rateLimit));
  app.use(
    '/helix',
    createEventSubRouter(state, {
      delivery,
      requireHttpsCallback: options.requireHttpsCallback ?? true,
      ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
      ...(options.pageSize ? { pageSize: options.pageSize } : {}),
      ...(options.maxTotalCost !== undefined ? { maxTotalCost: options.maxTotalCost } : {}),
    }),
  );
  app.use('/sim', createFollowControlRouter(state, delivery, followers));
  app.use('/sim', createControlRouter(state, delivery, followers));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  return { app, state, delivery, followers };
}
