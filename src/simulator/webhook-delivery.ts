import { randomUUID } from 'node:crypto';
import { eventSubHeaders, twitchTimestamp } from '../shared/twitch/eventsub-delivery.js';
import type { SimState, SimSubscription, SubscriptionStatus } from './sim-state.js';

export interface DeliveryOptions {
  /** How long Twitch waits for an answer before counting a failure. */
  timeoutMs?: number;
  /** Waits before each retry of a notification; its length is the number of retries. */
  retryDelaysMs?: number[];
  log?: (line: string) => void;
}

export interface DeliveryOutcome {
  messageId: string;
  delivered: boolean;
  attempts: number;
}

/** The subscription as Twitch shows it in webhook bodies: never the secret. */
export function subscriptionView(sub: SimSubscription) {
  return {
    id: sub.id,
    status: sub.status,
    type: sub.type,
    version: sub.version,
    condition: sub.condition,
    transport: { method: 'webhook', callback: sub.callback },
    created_at: sub.createdAt,
    cost: sub.cost,
  };
}

/** Twitch's side of the webhook transport: challenge, at-least-once notifications, revocation. */
export function createWebhookDelivery(state: SimState, options: DeliveryOptions = {}) {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retryDelays = options.retryDelaysMs ?? [1000, 2000, 4000, 8000];
  const log = options.log ?? (() => undefined);

  async function post(
    sub: SimSubscription,
    messageType: 'notification' | 'webhook_callback_verification' | 'revocation',
    body: string,
    messageId: string,
    retry: number,
  ) {
    const headers = eventSubHeaders(sub.secret, {
      body,
      messageType,
      subscriptionType: sub.type,
      subscriptionVersion: sub.version,
      messageId,
      timestamp: twitchTimestamp(new Date(state.now())),
      retry,
    });
    // Twitch follows no redirects and gives up after its timeout.
    const response = await fetch(sub.callback, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    return {
      status: response.status,
      text: await response.text(),
      contentType: response.headers.get('content-type') ?? '',
    };
  }

  async function revoke(sub: SimSubscription, status: SubscriptionStatus): Promise<void> {
    sub.status = status;
    const body = JSON.stringify({ subscription: subscriptionView(sub) });
    try {
      await post(sub, 'revocation', body, randomUUID(), 0);
    } catch (error) {
      log(`revocation of ${sub.id} could not be sent: ${(error as Error).message}`);
    }
  }

  return {
    /** Sends the challenge; the subscription is enabled only for exactly the challenge back. */
    async verify(sub: SimSubscription): Promise<boolean> {
      const challenge = randomUUID().replace(/-/g, '');
      const body = JSON.stringify({ challenge, subscription: subscriptionView(sub) });
      let ok = false;
      try {
        const answer = await post(sub, 'webhook_callback_verification', body, randomUUID(), 0);
        ok =
          answer.status >= 200 &&
          answer.status < 300 &&
          answer.text === challenge &&
          /^text\/plain\b/i.test(answer.contentType);
        if (!ok) {
          log(
            `verification of ${sub.id} failed: ${answer.status} ${answer.contentType} ${JSON.stringify(answer.text.slice(0, 80))}`,
          );
        }
      } catch (error) {
        log(`verification of ${sub.id} failed: ${(error as Error).message}`);
      }
      if (sub.status === 'webhook_callback_verification_pending') {
        sub.status = ok ? 'enabled' : 'webhook_callback_verification_failed';
      }
      return ok;
    },

    /**
     * Delivers one event at least once: a non-2xx or a timeout is retried with backoff under the
     * same message id. When every retry fails, Twitch revokes with notification_failures_exceeded.
     */
    async notify(
      sub: SimSubscription,
      event: Record<string, unknown>,
      messageId = randomUUID(),
    ): Promise<DeliveryOutcome> {
      const body = JSON.stringify({ subscription: subscriptionView(sub), event });
      for (let attempt = 0; attempt <= retryDelays.length; attempt++) {
        if (sub.status !== 'enabled') return { messageId, delivered: false, attempts: attempt };
        if (attempt > 0) {
          await new Promise((resolve) => setTimeout(resolve, retryDelays[attempt - 1]));
        }
        try {
          const answer = await post(sub, 'notification', body, messageId, attempt);
          if (answer.status >= 200 && answer.status < 300) {
            return { messageId, delivered: true, attempts: attempt + 1 };
          }
          log(
            `notification ${messageId} to ${sub.callback}: ${answer.status} (attempt ${attempt + 1})`,
          );
        } catch (error) {
          log(
            `notification ${messageId} to ${sub.callback}: ${(error as Error).message} (attempt ${attempt + 1})`,
          );
        }
      }
      await revoke(sub, 'notification_failures_exceeded');
      return { messageId, delivered: false, attempts: retryDelays.length + 1 };
    },

    revoke,
  };
}
export type WebhookDelivery = ReturnType<typeof createWebhookDelivery>;
