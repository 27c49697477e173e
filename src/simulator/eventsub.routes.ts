import express, { Router } from 'express';
import { helixError } from './helix-errors.js';
import { helixRateLimit, helixToken, requireHelixToken } from './helix-auth.js';
import type { SimState, SimSubscription } from './sim-state.js';
import { DEPRECATED_VERSIONS, SUBSCRIPTION_TYPES, conditionUserIds } from './subscription-types.js';
import { subscriptionView, type WebhookDelivery } from './webhook-delivery.js';

export interface EventSubRouteOptions {
  delivery: WebhookDelivery;
  /** Twitch takes only https callbacks on port 443; a local stack has none. */
  requireHttpsCallback: boolean;
  rateLimit?: number;
  maxTotalCost?: number;
  pageSize?: number;
}

const isStringRecord = (value: unknown): value is Record<string, string> =>
  value !== null &&
  typeof value === 'object' &&
  !Array.isArray(value) &&
  Object.values(value).every((v) => typeof v === 'string');

/** `POST/GET/DELETE /eventsub/subscriptions` with Helix's semantics (PROTOCOL.md section 2). */
export function createEventSubRouter(state: SimState, options: EventSubRouteOptions): Router {
  const maxTotalCost = options.maxTotalCost ?? 10_000;
  const pageSize = options.pageSize ?? 100;
  const router = Router();
  const mine = (clientId: string) =>
    [...state.subscriptions.values()].filter((s) => s.clientId === clientId);
  const totalCost = (clientId: string) =>
    mine(clientId)
      .filter((s) => s.status === 'enabled' || s.status === 'webhook_callback_verification_pending')
      .reduce((sum, s) => sum + s.cost, 0);

  router.use(
    '/eventsub/subscriptions',
    requireHelixToken(state, 'app'),
    helixRateLimit(state, options.rateLimit ?? 800),
  );

  router.post('/eventsub/subscriptions', express.json({ limit: '16kb' }), (req, res) => {
    const token = helixToken(res.locals);
    const body = (req.body ?? {}) as {
      type?: unknown;
      version?: unknown;
      condition?: unknown;
      transport?: Record<string, unknown>;
    };
    if (typeof body.type !== 'string' || typeof body.version !== 'string') {
      return helixError(res, 400, 'type and version are required');
    }
    if (DEPRECATED_VERSIONS[body.type]?.includes(body.version)) {
      return helixError(res, 400, 'cannot use deprecated subscription type and version');
    }
    const rule = SUBSCRIPTION_TYPES[body.type];
    if (!rule || rule.version !== body.version) {
      return helixError(res, 400, 'invalid subscription type and version');
    }
    if (!isStringRecord(body.condition)) {
      return helixError(res, 400, 'missing or invalid condition');
    }
    const condition = body.condition;
    const missing = rule.condition.filter((key) => !condition[key]);
    if (missing.length) {
      return helixError(res, 400, `missing or invalid condition: ${missing.join(', ')}`);
    }
    if (rule.oneOf && rule.oneOf.filter((key) => condition[key]).length !== 1) {
      return helixError(res, 400, `exactly one of ${rule.oneOf.join(', ')} is required`);
    }
    if (condition.client_id !== undefined && condition.client_id !== token.clientId) {
      return helixError(res, 400, 'client_id must match the token');
    }
    for (const userId of conditionUserIds(condition)) {
      if (!state.users.has(userId)) return helixError(res, 400, 'user does not exist');
    }

    const transport = body.transport ?? {};
    if (transport.method !== 'webhook') return helixError(res, 400, 'invalid transport method');
    if (typeof transport.callback !== 'string') {
      return helixError(res, 400, 'transport callback is required');
    }
    let callback: URL;
    try {
      callback = new URL(transport.callback);
    } catch {
      return helixError(res, 400, 'invalid transport callback');
    }
    if (
      options.requireHttpsCallback &&
      (callback.protocol !== 'https:' || (callback.port !== '' && callback.port !== '443'))
    ) {
      return helixError(res, 400, 'invalid transport callback: must be https on port 443');
    }
    if (
      typeof transport.secret !== 'string' ||
      transport.secret.length < 10 ||
      transport.secret.length > 100
    ) {
      return helixError(res, 400, 'the length of the string in the secret field is not valid');
    }

    const authorizer = rule.authorizer && condition[rule.authorizer];
    if (authorizer) {
      const granted = state.grantedScopes(authorizer, token.clientId);
      if (!rule.scopes.some((scope) => granted.has(scope))) {
        return helixError(res, 403, 'subscription missing proper authorization');
      }
    }
    const sameKind = mine(token.clientId).filter(
      (s) =>
        s.type === body.type &&
        s.version === body.version &&
        JSON.stringify(sortKeys(s.condition)) === JSON.stringify(sortKeys(condition)),
    );
    if (
      sameKind.some(
        (s) => s.status === 'enabled' || s.status === 'webhook_callback_verification_pending',
      )
    ) {
      return helixError(res, 409, 'subscription already exists');
    }
    const users = conditionUserIds(condition);
    const authorized =
      users.length === 0 ||
      users.some(
        (id) =>
          state.grantedScopes(id, token.clientId).size > 0 ||
          state.grants.get(id)?.has(token.clientId),
      );
    const cost = authorized ? 0 : 1;
    if (totalCost(token.clientId) + cost > maxTotalCost) {
      return helixError(res, 429, 'subscription cost exceeds the maximum total cost');
    }

    const sub: SimSubscription = {
      id: state.newSubscriptionId(),
      clientId: token.clientId,
      status: 'webhook_callback_verification_pending',
      type: body.type,
      version: body.version,
      condition,
      createdAt: new Date(state.now()).toISOString(),
      callback: transport.callback,
      secret: transport.secret,
      cost,
    };
    state.subscriptions.set(sub.id, sub);
    res.status(202).json({
      data: [subscriptionView(sub)],
      total: mine(token.clientId).length,
      total_cost: totalCost(token.clientId),
      max_total_cost: maxTotalCost,
    });
    // Twitch sends the challenge right after answering.
    void options.delivery.verify(sub);
  });

  router.get('/eventsub/subscriptions', (req, res) => {
    const token = helixToken(res.locals);
    const filters = (['status', 'type', 'user_id', 'subscription_id'] as const).filter(
      (key) => typeof req.query[key] === 'string',
    );
    if (filters.length > 1) {
      return helixError(
        res,
        400,
        'only one of status, type, user_id or subscription_id may be given',
      );
    }
    const value = filters[0] && (req.query[filters[0]] as string);
    const matching = mine(token.clientId).filter((s) => {
      switch (filters[0]) {
        case 'status':
          return s.status === value;
        case 'type':
          return s.type === value;
        case 'user_id':
          return conditionUserIds(s.condition).includes(value!);
        case 'subscription_id':
          return s.id === value;
        default:
          return true;
      }
    });
    const after =
      typeof req.query.after === 'string'
        ? Number(Buffer.from(req.query.after, 'base64url').toString())
        : 0;
    if (!Number.isInteger(after) || after < 0) return helixError(res, 400, 'invalid cursor');
    const page = matching.slice(after, after + pageSize);
    const next = after + page.length;
    res.json({
      total: mine(token.clientId).length,
      data: page.map(subscriptionView),
      total_cost: totalCost(token.clientId),
      max_total_cost: maxTotalCost,
      pagination:
        next < matching.length ? { cursor: Buffer.from(String(next)).toString('base64url') } : {},
    });
  });

  router.delete('/eventsub/subscriptions', (req, res) => {
    const token = helixToken(res.locals);
    const id = req.query.id;
    if (typeof id !== 'string' || id === '') {
      return helixError(res, 400, 'Missing required parameter "id"');
    }
    const sub = state.subscriptions.get(id);
    if (!sub || sub.clientId !== token.clientId) {
      return helixError(res, 404, 'subscription not found');
    }
    state.subscriptions.delete(id);
    res.status(204).end();
  });

  return router;
}

function sortKeys(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1));
}
