import { Server as NetServer, type Socket } from 'node:net';
import type { Server } from 'node:http';

/**
 * How long a connection must have sat without a request before the drain closes it. A keep-alive client
 * that has just had an answer sends its next request well within this (and that answer closes the
 * connection), so only connections nobody is using are cut: closing one races the client's next request.
 */
export const IDLE_CLOSE_MS = 1_000;
const CHECK_EVERY_MS = 100;

/** The server's open connections, whether it accepted them itself or a cluster primary handed them over, and since when each has been idle. */
export class Connections {
  /** Per open connection: when it last became idle, or undefined while a request is in progress. */
  private readonly idleSince = new Map<Socket, number | undefined>();

  constructor(server: Server) {
    server.on('connection', (socket: Socket) => {
      this.idleSince.set(socket, Date.now());
      socket.once('close', () => this.idleSince.delete(socket));
    });
    server.on('request', (request, response) => {
      const socket = request.socket;
      if (!this.idleSince.has(socket)) return;
      this.idleSince.set(socket, undefined);
      response.once('close', () => this.idleSince.has(socket) && this.idleSince.set(socket, Date.now()));
    });
  }

  get size(): number {
    return this.idleSince.size;
  }

  /** Closes every connection idle for at least `idleMs`. */
  closeIdle(idleMs: number, now = Date.now()): void {
    for (const [socket, since] of this.idleSince) if (since !== undefined && now - since >= idleMs) socket.destroy();
  }
}

/**
 * Stops accepting without touching open connections. `http.Server#close` would also close every idle
 * keep-alive connection at once, racing requests their clients are sending at that moment.
 */
export function stopListening(server: Server): void {
  if (server.listening) NetServer.prototype.close.call(server);
}

/**
 * Called once no new connection can arrive, with answers already closing their connections (the
 * lifecycle's `draining`): waits for requests already accepted to be answered and closes connections
 * left idle for `idleMs`. Resolves true when none is left, false if `graceMs` ran out first.
 */
export async function drainConnections(connections: Connections, graceMs: number, idleMs = IDLE_CLOSE_MS): Promise<boolean> {
  const deadline = Date.now() + graceMs;
  while (connections.size > 0) {
    if (Date.now() >= deadline) return false;
    connections.closeIdle(idleMs);
    await new Promise((resolve) => setTimeout(resolve, CHECK_EVERY_MS));
  }
  return true;
}
