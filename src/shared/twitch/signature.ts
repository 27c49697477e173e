import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'sha256=';

/** `sha256=<hex>` over message id + timestamp header (verbatim) + the raw body bytes. */
export function signEventSub(
  secret: string,
  messageId: string,
  timestamp: string,
  body: Buffer | string,
): string {
  return (
    PREFIX +
    createHmac('sha256', secret).update(messageId).update(timestamp).update(body).digest('hex')
  );
}

export function verifyEventSubSignature(
  secret: string,
  messageId: string,
  timestamp: string,
  body: Buffer,
  signatureHeader: string,
): boolean {
  const expected = Buffer.from(signEventSub(secret, messageId, timestamp, body));
  const received = Buffer.from(signatureHeader);
  // timingSafeEqual throws on a length mismatch; a wrong length is simply a bad signature.
  return received.length === expected.length && timingSafeEqual(received, expected);
}
