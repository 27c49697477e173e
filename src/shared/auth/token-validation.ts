import type { RedisClient } from '../connections/redis.js';
import type { Logger } from '../logger.js';
import type { UserTokens } from './user-tokens.js';

export interface TokenValidationOptions {
  tokens: UserTokens;
  redis: RedisClient;
  prefix: string;
  authUrl: string;
  clientId: string;
  clientSecret: string;
  log: Logger;
}

/**
 * Twitch's rule for apps with login sessions: validate every user token at start-up and hourly,
 * refresh one that expired, and end the sessions of a token that cannot be made valid again.
 */
export async function validateUserTokens(
  options: TokenValidationOptions,
): Promise<{ valid: number; refreshed: number; ended: number }> {
  const result = { valid: 0, refreshed: 0, ended: 0 };
  for (const userId of await options.tokens.users()) {
    const token = await options.tokens.get(userId);
    if (token) {
      const check = await fetch(`${options.authUrl}/validate`, {
        headers: { authorization: `OAuth ${token.accessToken}` },
        signal: AbortSignal.timeout(10_000),
      });
      if (check.ok) {
        result.valid++;
        continue;
      }
      if (check.status !== 401) throw new Error(`Twitch token validation answered ${check.status}`);
      if (token.refreshToken) {
        const body = new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: token.refreshToken,
          client_id: options.clientId,
          client_secret: options.clientSecret,
        });
        const refreshed = await fetch(`${options.authUrl}/token`, {
          method: 'POST',
          body,
          signal: AbortSignal.timeout(10_000),
        });
        if (refreshed.ok) {
          const next = (await refreshed.json()) as { access_token: string; refresh_token?: string };
          await options.tokens.update(userId, {
            accessToken: next.access_token,
            refreshToken: next.refresh_token ?? token.refreshToken,
          });
          result.refreshed++;
          continue;
        }
      }
    }
    const sessions = await options.tokens.endSessions(userId);
    result.ended++;
    options.log.info(
      { userId, sessions },
      `Ended ${sessions} session(s) of user ${userId}: their Twitch token is no longer valid`,
    );
  }
  return result;
}

/** Runs the validation now and hourly, on one web node at a time (a Redis lock). */
export function scheduleUserTokenValidation(
  options: TokenValidationOptions,
  everyMs = 3600_000,
): { stop(): void } {
  const lockKey = `${options.prefix}:lock:validate-user-tokens`;
  const run = async () => {
    if (
      (await options.redis.set(
        lockKey,
        String(process.pid),
        'PX',
        Math.max(1000, everyMs - 5000),
        'NX',
      )) !== 'OK'
    ) {
      return;
    }
    const result = await validateUserTokens(options);
    options.log.info(
      result,
      `Validated Twitch user tokens: ${result.valid} valid, ${result.refreshed} refreshed, ${result.ended} ended`,
    );
  };
  const guarded = () =>
    void run().catch((error: Error) =>
      options.log.warn({ err: error }, `Token validation failed: ${error.message}`),
    );
  // At start-up the command connection may not be up yet (it does not queue commands).
  if (options.redis.status === 'ready') guarded();
  else options.redis.once('ready', guarded);
  const timer = setInterval(guarded, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
