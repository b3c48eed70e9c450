import { buildApp } from '../../src/http/app.js';
import { ModelStore } from '../../src/model-store/store.js';
import { Recommender } from '../../src/recommender/recommender.js';
import { createKernel, type KernelName } from '../../src/scorers/index.js';
import { silentLogger } from './fixtures.js';

/** The serving stack of one or more models in one feed, as the server wires it, without listening. */
export async function servingStack(feedRoot: string, models: string[], kernelName: KernelName = 'onnx') {
  const kernel = createKernel(kernelName, 1);
  const store = new ModelStore(
    models.map((name) => ({ name, feedRoot })),
    { logger: silentLogger, verifyChecksums: true },
  );
  const recommender = new Recommender(store, kernel, models[0]!);
  const app = await buildApp({ store, recommender, logger: silentLogger });
  return {
    kernel,
    store,
    recommender,
    app,
    async close() {
      await app.close();
      await kernel.close();
    },
  };
}
