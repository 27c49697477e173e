import type { Server } from 'node:http';
import type { Logger } from './logger.js';

const CAUSES: Record<string, string> = {
  EADDRINUSE: 'it is already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'the address is not available',
};

/** A server that could not listen, in one line naming the port and the variable that set it. */
export class ListenError extends Error {
  constructor(
    readonly port: number,
    readonly variable: string,
    cause: NodeJS.ErrnoException,
  ) {
    const why = (cause.code && CAUSES[cause.code]) ?? cause.message;
    super(`cannot listen on port ${port} (${variable}): ${why}`, { cause });
    this.name = 'ListenError';
  }
}

/** Resolves once `server` listens on `port`; rejects with a ListenError instead of throwing. */
export function listen(server: Server, port: number, variable: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) =>
      reject(new ListenError(port, variable, error));
    server.once('error', onError);
    server.listen(port, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** For entry points: a start-up failure is one fatal log line and exit 1, never a stack trace. */
export function exitOnListenError(log: Logger): (error: unknown) => never {
  return (error) => {
    if (!(error instanceof ListenError)) throw error;
    log.fatal({ port: error.port, variable: error.variable }, error.message);
    process.exit(1);
  };
}
