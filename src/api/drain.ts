/**
 * The state of a `web` node that has been told to stop. While draining it still serves every
 * request, but `/readyz` fails so that load balancers stop sending new connections, and each
 * response closes its connection (request-log.ts) so that no client keeps a socket to a node
 * that is going away.
 */
export interface Drain {
  readonly draining: boolean;
  start(): void;
}

export function createDrain(): Drain {
  let draining = false;
  return {
    get draining() {
      return draining;
    },
    start() {
      draining = true;
    },
  };
}
