import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './http/app.js';
import { ModelStore, type ModelSource } from './model-store/store.js';
import { Recommender } from './recommender/recommender.js';
import { createKernel, type KernelName, type ScoringKernel } from './scorers/index.js';
import { OnnxKernel } from './scorers/onnx-kernel.js';

export interface ServingOptions {
  /** The first is the default model. */
  models: ModelSource[];
  kernel: KernelName;
  threads: number;
  verifyChecksums: boolean;
  logger: Logger;
}

export interface Serving {
  app: FastifyInstance;
  store: ModelStore;
  kernel: ScoringKernel;
  recommender: Recommender;
  close(): Promise<void>;
}

/** config -> store -> kernel -> recommender -> HTTP, without listening or loading anything yet. */
export async function createServing({ models, kernel: kernelName, threads, verifyChecksums, logger }: ServingOptions): Promise<Serving> {
  const kernel = createKernel(kernelName, threads);
  const store = new ModelStore(models, {
    logger,
    verifyChecksums,
    // Warm the scoring session before a snapshot is swapped in, not on its first request.
    prepare: kernel instanceof OnnxKernel ? (s) => kernel.prepare(s) : undefined,
  });
  const recommender = new Recommender(store, kernel, models[0]!.name);
  const app = await buildApp({ store, recommender, logger });
  return {
    app,
    store,
    kernel,
    recommender,
    async close() {
      await app.close();
      await kernel.close();
    },
  };
}
