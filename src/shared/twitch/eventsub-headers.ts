/** Twitch's EventSub webhook headers, as Node lower-cases them. */
export const EVENTSUB_HEADERS = {
  messageId: 'twitch-eventsub-message-id',
  messageRetry: 'twitch-eventsub-message-retry',
  messageType: 'twitch-eventsub-message-type',
  messageSignature: 'twitch-eventsub-message-signature',
  messageTimestamp: 'twitch-eventsub-message-timestamp',
  subscriptionType: 'twitch-eventsub-subscription-type',
  subscriptionVersion: 'twitch-eventsub-subscription-version',
} as const;

export const MESSAGE_TYPES = {
  notification: 'notification',
  verification: 'webhook_callback_verification',
  revocation: 'revocation',
} as const;

/** Twitch's replay rule: a message whose timestamp is older than this is not processed. */
export const FRESHNESS_WINDOW_MS = 10 * 60 * 1000;
