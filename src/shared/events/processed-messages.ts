import { createHash } from 'node:crypto';

/**
 * Set by the processor once an EventSub message is fully handled (TTL DEDUPE_WINDOW_SECONDS);
 * intake reads it to acknowledge a replayed message id without queuing it again.
 */
export const processedMessageKey = (redisPrefix: string, messageId: string): string =>
  `${redisPrefix}:dedupe:msg:${createHash('sha256').update(messageId).digest('base64url')}`;
