import type { Socket } from 'node:net';
import type { ResolvedConfig } from './config/schema.js';
import { drainConnections, stopListening } from './http/drain.js';
import { createLogger } from './logger.js';
import { createServing, type Serving } from './wiring/index.js';

export interface RunningServer extends Serving {
  /** Resolves once the first load of every model has finished (successfully or not). */
  loaded: Promise<void>;
  /** Takes a connection a cluster primary accepted (`listen: false`). */
  accept(socket: Socket): void;
  /**
   * Stops taking connections (unless a primary holds the listener: then it has stopped already), answers
   * every request already accepted, closes the serving stack. Resolves false if `graceMs` ran out first.
   */
  stop(): Promise<boolean>;
}

/** Listens first (unless a cluster primary listens for it), then loads models in the background: /readyz tells when they are in. */
export async function startServer(config: Readonly<ResolvedConfig>, { listen = true } = {}): Promise<RunningServer> {
  const serving = await createServing(config, createLogger(config.logLevel));
  if (listen) await serving.app.listen({ host: config.host, port: config.port });
  else await serving.app.ready();
  const loaded = serving.store.loadAll().then(() => serving.watcher.start());
  const server = serving.app.server;
  return {
    ...serving,
    loaded,
    accept(socket) {
      server.emit('connection', socket);
      socket.resume();
    },
    async stop() {
      stopListening(server);
      const drained = await drainConnections(serving.connections, config.shutdown.graceMs);
      await serving.close();
      return drained;
    },
  };
}
