import { availableParallelism } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/schema.js';
import { buildApp } from './http/app.js';
import { createLogger } from './logger.js';
import { ModelStore } from './model-store/store.js';
import { Recommender } from './recommender/recommender.js';
import { createKernel } from './scorers/index.js';
import { OnnxKernel } from './scorers/onnx-kernel.js';

export interface RunningServer {
  app: FastifyInstance;
  store: ModelStore;
  /** Resolves once the first load of every model has finished (successfully or not). */
  loaded: Promise<void>;
  close(): Promise<void>;
}

/** Wires config -> store -> kernel -> recommender -> HTTP and listens; models load in the background. */
export async function startServer(config: Readonly<Config>): Promise<RunningServer> {
  const logger = createLogger(config.logLevel);
  const kernel = createKernel(config.scoring.kernel, config.scoring.threads ?? availableParallelism());
  const store = new ModelStore(
    config.models.map((m) => ({ name: m.name, feedRoot: m.feed ?? config.feed })),
    {
      logger,
      verifyChecksums: config.scoring.verifyChecksums,
      prepare: kernel instanceof OnnxKernel ? (s) => kernel.prepare(s) : undefined,
    },
  );
  const recommender = new Recommender(store, kernel, config.models[0]!.name);
  const app = await buildApp({ store, recommender, logger });
  await app.listen({ host: config.host, port: config.port });
  const loaded = store.loadAll();
  return {
    app,
    store,
    loaded,
    async close() {
      await app.close();
      await kernel.close();
    },
  };
}
