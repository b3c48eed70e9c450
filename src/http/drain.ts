import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** How long a connection must have been idle before the drain closes it: one that just connected has sent its request by then. */
const IDLE_CHECK_MS = 100;

/** The server's open connections, whether it accepted them itself or a cluster primary handed them over. */
export function trackConnections(server: Server): Set<Socket> {
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return open;
}

/**
 * Called once no new connection can arrive. Every answer from now on carries `Connection: close`
 * (`lifecycle.closing`), requests already accepted are answered, keep-alive connections idle for
 * about 100 ms are closed. Resolves true when no connection is left, false if `graceMs` ran out first.
 */
export async function drainConnections(server: Server, open: Set<Socket>, lifecycle: { closing: boolean }, graceMs: number): Promise<boolean> {
  lifecycle.closing = true;
  const deadline = Date.now() + graceMs;
  while (open.size > 0) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, IDLE_CHECK_MS));
    server.closeIdleConnections();
  }
  return true;
}
