import { loadNative } from '../../src/native-addon.js';
import { createKernels, Scorer, type KernelName } from '../../src/scorers/index.js';

export interface TestScorerOptions {
  batching?: boolean;
  maxBatch?: number;
  threads?: number;
  rescoreCandidates?: number;
}

/** A scorer over exactly the named kernels (a native one needs the built addon: failing here beats testing nothing). */
export function scorerWith(names: KernelName[], { batching = false, maxBatch = 32, threads = 1, rescoreCandidates = 100 }: TestScorerOptions = {}): Scorer {
  const kernels = createKernels(names, { threads, rescoreCandidates, native: loadNative() });
  if (kernels.length !== names.length) throw new Error(`cannot create ${names.join(', ')}: the native addon is not built`);
  return new Scorer({ kernels, batching, maxBatch, gatherMs: 0 });
}
