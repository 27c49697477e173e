import type { RedisClient } from '../../shared/connections/redis.js';

/** How many rejected callbacks are kept, newest first, and how much of each body. */
export const REJECTED_KEPT = 200;
export const REJECTED_BODY_CHARS = 16 * 1024;

export interface RejectedCallback {
  at: string;
  reason: string;
  messageId: string;
  messageType: string;
  subscriptionType: string | null;
  bodyBytes: number;
  /** The body, cut at REJECTED_BODY_CHARS characters. */
  body: string;
}

export interface RejectedCallbacks {
  keep(callback: RejectedCallback): Promise<void>;
  list(count?: number): Promise<RejectedCallback[]>;
}

/**
 * Signed callbacks that cannot be processed (not JSON, nested too deep, not EventSub), kept in a
 * capped Redis list `<prefix>:webhooks:rejected` for an operator to inspect; see OPERATIONS.md.
 */
export function createRejectedCallbacks(redis: RedisClient, prefix: string): RejectedCallbacks {
  const key = `${prefix}:webhooks:rejected`;
  return {
    async keep(callback) {
      await redis
        .multi()
        .lpush(key, JSON.stringify(callback))
        .ltrim(key, 0, REJECTED_KEPT - 1)
        .exec();
    },
    async list(count = REJECTED_KEPT) {
      const entries = await redis.lrange(key, 0, count - 1);
      return entries.map((entry) => JSON.parse(entry) as RejectedCallback);
    },
  };
}
