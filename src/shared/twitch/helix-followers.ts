import type { StoredUserToken } from '../auth/user-tokens.js';
import { TwitchApiError } from './helix-client.js';

/** One entry of Helix `GET /channels/followers` (PROTOCOL.md section 9). */
export interface HelixFollower {
  user_id: string;
  user_login: string;
  user_name: string;
  followed_at: string;
}

export interface FollowersPage {
  total: number;
  data: HelixFollower[];
  cursor: string | undefined;
}

export interface HelixFollowersOptions {
  authUrl: string;
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  /** The streamer's own token, and where a refreshed one goes. */
  token: StoredUserToken;
  saveToken: (token: StoredUserToken) => Promise<void>;
  /** Longest wait for a refilled rate-limit bucket before giving up. */
  maxRateLimitWaitMs?: number;
  timeoutMs?: number;
  /** For tests and logs: each wait for the bucket, in ms. */
  onRateLimitWait?: (waitMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How long until Ratelimit-Reset (Unix seconds), plus a little; 1 s when Twitch gave none. */
function untilReset(response: Response): number {
  const resetAt = Number(response.headers.get('ratelimit-reset')) * 1000;
  return Number.isFinite(resetAt) && resetAt > 0 ? Math.max(0, resetAt - Date.now()) + 50 : 1000;
}

/**
 * Helix `GET /channels/followers` with a streamer's user token. Follows Helix's rate-limit
 * headers: a 429 waits for Ratelimit-Reset and retries, and a page that leaves the bucket empty
 * (Ratelimit-Remaining 0) waits for a point before the next request rather than earning a 429. An expired token (401) is refreshed
 * once with the refresh token and stored.
 */
export function createHelixFollowers(options: HelixFollowersOptions) {
  const maxWait = options.maxRateLimitWaitMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const sleep = options.sleep ?? defaultSleep;
  let token = options.token;
  let emptyUntil = 0;

  async function waitFor(ms: number): Promise<void> {
    if (ms > maxWait) {
      throw new TwitchApiError(
        429,
        `Twitch rate limit: the bucket refills in ${Math.round(ms / 1000)} s`,
      );
    }
    options.onRateLimitWait?.(ms);
    await sleep(ms);
  }

  async function refresh(): Promise<boolean> {
    if (!token.refreshToken) return false;
    const response = await fetch(`${options.authUrl}/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: token.refreshToken,
        client_id: options.clientId,
        client_secret: options.clientSecret,
      }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return false;
    const next = (await response.json()) as { access_token: string; refresh_token?: string };
    token = {
      accessToken: next.access_token,
      refreshToken: next.refresh_token ?? token.refreshToken,
    };
    await options.saveToken(token);
    return true;
  }

  async function get(path: string): Promise<Response> {
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      if (emptyUntil > Date.now()) await waitFor(emptyUntil - Date.now());
      const response = await fetch(`${options.apiUrl}${path}`, {
        headers: { authorization: `Bearer ${token.accessToken}`, 'client-id': options.clientId },
        signal: AbortSignal.timeout(timeoutMs),
      });
      // An empty bucket after a success: Ratelimit-Reset is when it is full again, but the next
      // request needs one point, which takes a minute / Ratelimit-Limit (Helix refills evenly).
      if (response.ok && response.headers.get('ratelimit-remaining') === '0') {
        const limit = Number(response.headers.get('ratelimit-limit'));
        const onePoint = limit > 0 ? Math.ceil(60_000 / limit) + 50 : 1000;
        emptyUntil = Date.now() + Math.min(untilReset(response), onePoint);
      }
      if (response.status === 401 && !refreshed) {
        await response.arrayBuffer();
        refreshed = true;
        if (await refresh()) continue;
        throw new TwitchApiError(
          401,
          'The streamer token is no longer valid and could not be refreshed',
        );
      }
      if (response.status === 429 && attempt < 5) {
        await response.arrayBuffer();
        emptyUntil = Date.now() + untilReset(response);
        continue;
      }
      return response;
    }
  }

  return {
    /** One page, newest first; `cursor` is undefined on the last page. */
    async page(broadcasterId: string, first: number, after?: string): Promise<FollowersPage> {
      const params = new URLSearchParams({ broadcaster_id: broadcasterId, first: String(first) });
      if (after) params.set('after', after);
      const response = await get(`/channels/followers?${params.toString()}`);
      if (!response.ok) {
        const text = await response.text().catch(() => '');
        throw new TwitchApiError(
          response.status,
          `GET /channels/followers failed (${response.status}): ${text.slice(0, 200)}`,
        );
      }
      const body = (await response.json()) as {
        total?: number;
        data?: HelixFollower[];
        pagination?: { cursor?: string };
      };
      return {
        total: body.total ?? 0,
        data: body.data ?? [],
        cursor: body.pagination?.cursor || undefined,
      };
    },
  };
}
export type HelixFollowers = ReturnType<typeof createHelixFollowers>;
