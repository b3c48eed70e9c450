import type { KernelName } from '../../src/scorers/index.js';
import { createServing } from '../../src/wiring.js';
import { silentLogger } from './fixtures.js';

/** The serving stack of one or more models in one feed, as the server wires it, without listening. */
export function servingStack(feedRoot: string, models: string[], kernel: KernelName = 'onnx') {
  return createServing({ models: models.map((name) => ({ name, feedRoot })), kernel, threads: 1, verifyChecksums: true, logger: silentLogger });
}
