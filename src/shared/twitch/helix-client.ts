import type { RedisClient } from '../connections/redis.js';

export class TwitchApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'TwitchApiError';
  }
}

export interface TwitchUser {
  id: string;
  login: string;
  display_name: string;
  profile_image_url: string;
  broadcaster_type: string;
  type: string;
}

export interface TwitchSubscription {
  id: string;
  status: string;
  type: string;
  version: string;
  condition: Record<string, string>;
  created_at: string;
  cost: number;
  transport: { method: string; callback?: string };
}

export interface NewSubscription {
  type: string;
  version: string;
  condition: Record<string, string>;
}

export interface HelixClientOptions {
  authUrl: string;
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  /** Shares the app access token between processes; without it each process gets its own. */
  redis?: RedisClient;
  redisPrefix?: string;
  /** Longest wait for a refilled rate-limit bucket before giving up. */
  maxRateLimitWaitMs?: number;
  timeoutMs?: number;
  /** Called with Twitch's `total_cost` and `max_total_cost` whenever a subscription answer has them. */
  onCost?: (cost: SubscriptionCost) => void;
}

/** The cost budget of this client's subscriptions, as Twitch last reported it. */
export interface SubscriptionCost {
  total: number;
  max: number;
}

/**
 * Helix with an app access token (client credentials): fetched once, shared through Redis, and
 * replaced when Twitch answers 401, since app tokens cannot be refreshed. A 429 waits for the
 * bucket to refill (Ratelimit-Reset) and retries.
 */
export function createHelixClient(options: HelixClientOptions) {
  const tokenKey = `${options.redisPrefix ?? 'sf'}:twitch:app-token:${options.clientId}`;
  const maxWait = options.maxRateLimitWaitMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let cached: string | null = null;
  const reportCost = (body: { total_cost?: unknown; max_total_cost?: unknown }) => {
    const { total_cost: total, max_total_cost: max } = body;
    if (typeof total === 'number' && typeof max === 'number') options.onCost?.({ total, max });
  };

  async function fetchAppToken(): Promise<string> {
    const body = new URLSearchParams({
      client_id: options.clientId,
      client_secret: options.clientSecret,
      grant_type: 'client_credentials',
    });
    const response = await fetch(`${options.authUrl}/token`, {
      method: 'POST',
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) {
      throw new TwitchApiError(
        response.status,
        `Twitch refused the app credentials (${response.status}): ${await errorMessage(response)}`,
      );
    }
    const { access_token: token, expires_in: expiresIn } = (await response.json()) as {
      access_token: string;
      expires_in: number;
    };
    // Keep it a little shorter than Twitch does, so that it is never used in its last minutes.
    await options.redis?.set(tokenKey, token, 'EX', Math.max(60, Math.floor(expiresIn * 0.9)));
    return token;
  }

  async function appToken(renew = false): Promise<string> {
    if (!renew && cached) return cached;
    const shared = renew ? null : await options.redis?.get(tokenKey);
    cached = shared ?? (await fetchAppToken());
    return cached;
  }

  async function helix(path: string, init: RequestInit = {}, attempt = 0): Promise<Response> {
    const token = await appToken();
    const response = await fetch(`${options.apiUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        'client-id': options.clientId,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status === 401 && attempt === 0) {
      await options.redis?.del(tokenKey);
      cached = null;
      await appToken(true);
      return helix(path, init, attempt + 1);
    }
    // A 429 with points left in the bucket is Twitch refusing the subscription (cost budget or
    // too many of one kind), not the rate limit: waiting would not change the answer.
    const bucketEmpty = Number(response.headers.get('ratelimit-remaining') ?? '0') < 1;
    if (response.status === 429 && bucketEmpty && attempt < 3) {
      const resetAt = Number(response.headers.get('ratelimit-reset')) * 1000;
      const wait =
        Number.isFinite(resetAt) && resetAt > 0 ? Math.max(0, resetAt - Date.now()) + 50 : 1000;
      if (wait > maxWait) {
        throw new TwitchApiError(
          429,
          `Twitch rate limit: the bucket refills in ${Math.round(wait / 1000)} s`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
      return helix(path, init, attempt + 1);
    }
    return response;
  }

  return {
    appToken: () => appToken(),

    /** Users by id and/or login (at most 100 in all); unknown ones are simply absent. */
    async getUsers(query: { ids?: string[]; logins?: string[] }): Promise<TwitchUser[]> {
      const params = new URLSearchParams();
      for (const id of query.ids ?? []) params.append('id', id);
      for (const login of query.logins ?? []) params.append('login', login);
      const response = await helix(`/users?${params.toString()}`);
      if (!response.ok) {
        throw new TwitchApiError(
          response.status,
          `GET /users failed (${response.status}): ${await errorMessage(response)}`,
        );
      }
      return ((await response.json()) as { data: TwitchUser[] }).data;
    },

    /** Creates a webhook subscription; an existing one (409) counts as success. */
    async createSubscription(
      sub: NewSubscription,
      callback: string,
      secret: string,
    ): Promise<{ created: boolean; subscription: TwitchSubscription | null }> {
      const response = await helix('/eventsub/subscriptions', {
        method: 'POST',
        body: JSON.stringify({ ...sub, transport: { method: 'webhook', callback, secret } }),
      });
      if (response.status === 409) return { created: false, subscription: null };
      if (response.status !== 202) {
        throw new TwitchApiError(
          response.status,
          `Creating ${sub.type} failed (${response.status}): ${await errorMessage(response)}`,
        );
      }
      const body = (await response.json()) as {
        data: TwitchSubscription[];
        total_cost?: number;
        max_total_cost?: number;
      };
      reportCost(body);
      return { created: true, subscription: body.data[0] ?? null };
    },

    /** Every subscription of this client, following the cursor. */
    async listSubscriptions(filter: Record<string, string> = {}): Promise<TwitchSubscription[]> {
      const all: TwitchSubscription[] = [];
      let cursor: string | undefined;
      do {
        const params = new URLSearchParams(filter);
        if (cursor) params.set('after', cursor);
        const response = await helix(`/eventsub/subscriptions?${params.toString()}`);
        if (!response.ok) {
          throw new TwitchApiError(
            response.status,
            `Listing subscriptions failed (${response.status}): ${await errorMessage(response)}`,
          );
        }
        const page = (await response.json()) as {
          data: TwitchSubscription[];
          pagination?: { cursor?: string };
          total_cost?: number;
          max_total_cost?: number;
        };
        reportCost(page);
        all.push(...page.data);
        cursor = page.pagination?.cursor;
      } while (cursor);
      return all;
    },

    /** Deletes a subscription; one already gone (404) counts as success. */
    async deleteSubscription(id: string): Promise<void> {
      const response = await helix(`/eventsub/subscriptions?id=${encodeURIComponent(id)}`, {
        method: 'DELETE',
      });
      if (response.status !== 204 && response.status !== 404) {
        throw new TwitchApiError(
          response.status,
          `Deleting subscription ${id} failed (${response.status}): ${await errorMessage(response)}`,
        );
      }
    },
  };
}
export type HelixClient = ReturnType<typeof createHelixClient>;

async function errorMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    return (JSON.parse(text) as { message?: string }).message ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}
