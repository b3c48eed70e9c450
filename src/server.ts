import type { ResolvedConfig } from './config/schema.js';
import { createLogger } from './logger.js';
import { createServing, type Serving } from './wiring.js';

export interface RunningServer extends Serving {
  /** Resolves once the first load of every model has finished (successfully or not). */
  loaded: Promise<void>;
}

/** Listens first, then loads models in the background: /readyz tells when they are in. */
export async function startServer(config: Readonly<ResolvedConfig>): Promise<RunningServer> {
  const serving = await createServing(config, createLogger(config.logLevel));
  await serving.app.listen({ host: config.host, port: config.port });
  const loaded = serving.store.loadAll().then(() => serving.watcher.start());
  return { ...serving, loaded };
}
