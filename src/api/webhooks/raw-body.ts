import type { IncomingMessage } from 'node:http';
import { HttpError } from '../errors.js';

/** 413; `closing` for a refusal before the body was read: the connection cannot be reused. */
export const tooLarge = (closing = false) =>
  new HttpError(
    413,
    'payload_too_large',
    'Request body is too large',
    closing ? { connection: 'close' } : {},
  );

/** Whether a request's Content-Length declares more than `limit` bytes. */
export function declaresMoreThan(req: IncomingMessage, limit: number): boolean {
  const declared = Number(req.headers['content-length']);
  return Number.isFinite(declared) && declared > limit;
}

/**
 * The request body as bytes, at most `limit` of them, untouched (the signature covers them).
 * A body declared larger than `limit` is refused before a byte of it is read, and the answer
 * closes the connection. One that only turns out larger (chunked) is read to its end and
 * dropped, as Express's body parser does, so that the client gets the answer rather than a
 * reset connection.
 */
export function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (declaresMoreThan(req, limit)) return Promise.reject(tooLarge(true));
  return new Promise((resolve, reject) => {
    let refused: HttpError | undefined;
    const refuse = (error: HttpError) => {
      refused ??= error;
      chunks.length = 0;
      if (req.readableEnded) reject(refused);
    };
    const chunks: Buffer[] = [];
    let received = 0;

    const encoding = req.headers['content-encoding']?.toLowerCase();
    if (encoding !== undefined && encoding !== 'identity') {
      refuse(
        new HttpError(
          415,
          'unsupported_encoding',
          `Content-Encoding ${encoding} is not accepted: send the body uncompressed`,
        ),
      );
    }
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      received += chunk.length;
      if (received > limit) refuse(tooLarge());
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) reject(refused);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    });
    req.on('error', () =>
      reject(new HttpError(400, 'bad_request', 'Request body was not received in full')),
    );
    req.on('aborted', () =>
      reject(new HttpError(400, 'bad_request', 'Request body was not received in full')),
    );
  });
}
