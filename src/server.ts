import { availableParallelism } from 'node:os';
import type { Config } from './config/schema.js';
import { createLogger } from './logger.js';
import { createServing, type Serving } from './wiring.js';

export interface RunningServer extends Serving {
  /** Resolves once the first load of every model has finished (successfully or not). */
  loaded: Promise<void>;
}

/** Listens first, then loads models in the background: /readyz tells when they are in. */
export async function startServer(config: Readonly<Config>): Promise<RunningServer> {
  const serving = await createServing({
    models: config.models.map((m) => ({ name: m.name, feedRoot: m.feed ?? config.feed })),
    kernel: config.scoring.kernel,
    threads: config.scoring.threads ?? availableParallelism(),
    verifyChecksums: config.scoring.verifyChecksums,
    logger: createLogger(config.logLevel),
  });
  await serving.app.listen({ host: config.host, port: config.port });
  return { ...serving, loaded: serving.store.loadAll() };
}
