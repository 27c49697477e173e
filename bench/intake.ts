import { randomUUID } from 'node:crypto';
import { EVENTSUB_SECRET, startStack } from '../test/helpers/stack.js';
import { followPayload } from '../test/helpers/twitch.js';
import { eventSubHeaders } from '../src/shared/twitch/eventsub-delivery.js';
import { startYardstick } from './child.js';
import { runLoad, type LoadResult, type OutgoingRequest } from './load.js';

export interface IntakeResult {
  web: LoadResult;
  bare: LoadResult;
  /** web's requests/s over the bare server's, measured in the same run. */
  ratio: number;
  bodyBytes: number;
}

/** A signed `channel.follow` notification, unique message id, as Twitch sends them. */
export function webhook(n: number): OutgoingRequest {
  const payload = followPayload(String(1000 + (n % 500)), String(5_000_000 + n));
  const body = JSON.stringify(payload);
  return {
    path: '/webhooks/twitch',
    body,
    headers: eventSubHeaders(EVENTSUB_SECRET, {
      body,
      messageType: 'notification',
      subscriptionType: 'channel.follow',
      subscriptionVersion: '2',
      messageId: randomUUID(),
    }),
  };
}

/**
 * Signed webhooks as fast as each server takes them, for `seconds`: `web` (Express, signature
 * check, replay check, BullMQ add to Redis) against a bare Node server, one after the other.
 */
export async function benchIntake(options: {
  seconds: number;
  connections: number;
  log: (line: string) => void;
}): Promise<IntakeResult> {
  const stack = await startStack({ without: ['processor', 'emitter', 'realtime'] });
  const bare = await startYardstick('bench/bare-http-server.ts');
  try {
    const webPort = stack.portOf('web');
    const warm = Math.min(2, options.seconds);
    await runLoad({
      port: webPort,
      connections: options.connections,
      seconds: warm,
      next: webhook,
    });
    await runLoad({
      port: bare.port,
      connections: options.connections,
      seconds: warm,
      next: webhook,
    });
    options.log(`  intake: web for ${options.seconds} s`);
    const web = await runLoad({
      port: webPort,
      connections: options.connections,
      seconds: options.seconds,
      next: webhook,
    });
    options.log(`  intake: bare server for ${options.seconds} s`);
    const bareResult = await runLoad({
      port: bare.port,
      connections: options.connections,
      seconds: options.seconds,
      next: webhook,
    });
    return {
      web,
      bare: bareResult,
      ratio: Math.round((web.perSecond / bareResult.perSecond) * 100) / 100,
      bodyBytes: Buffer.byteLength(webhook(0).body),
    };
  } finally {
    bare.stop();
    await stack.stop();
  }
}
