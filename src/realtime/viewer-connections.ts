import type { ViewerSocket } from './watch.handlers.js';

/**
 * The sockets each viewer holds on this node, for `REALTIME_MAX_CONNECTIONS_PER_USER`. A place
 * is taken when a handshake passes and given back when its socket disconnects or its connection
 * closes: Socket.IO drops a socket whose client left during the handshake middleware without a
 * `disconnect`, so counting on `disconnect` alone leaks places until the viewer is locked out.
 * Each admission also re-derives the viewer's count from the sockets themselves, dropping any
 * that neither connected nor still has an open connection, so a place lost any other way
 * comes back at that viewer's next handshake.
 */
export function createViewerConnections(maxPerViewer: number) {
  const byViewer = new Map<string, Set<ViewerSocket>>();
  // Connected, or past the middleware and about to be: Socket.IO connects it on the next tick
  // unless its connection closed meanwhile.
  const holds = (socket: ViewerSocket) => socket.connected || socket.conn.readyState === 'open';

  function release(userId: string, socket: ViewerSocket): void {
    const held = byViewer.get(userId);
    if (!held?.delete(socket) || held.size > 0) return;
    byViewer.delete(userId);
  }

  return {
    /** Takes a place for the socket of a handshake that passed; false when none is left. */
    admit(userId: string, socket: ViewerSocket): boolean {
      const held = byViewer.get(userId) ?? new Set<ViewerSocket>();
      for (const other of held) if (!holds(other)) held.delete(other);
      if (held.size >= maxPerViewer) return false;
      held.add(socket);
      byViewer.set(userId, held);
      socket.conn.once('close', () => release(userId, socket));
      return true;
    },
    release,
    /** Places the viewer holds, as last derived. */
    held: (userId: string): number => byViewer.get(userId)?.size ?? 0,
  };
}
