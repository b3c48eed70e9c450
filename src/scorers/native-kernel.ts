import type { ModelSnapshot } from '../model-store/snapshot.js';
import type { NativeAddon } from '../native-addon.js';
import type { KernelName, ScoringKernel, TopK } from './kernel.js';

/** What the two native kernels share: the addon, threads per scan, nothing to release, scans off the event loop. */
export abstract class NativeKernel implements ScoringKernel {
  abstract readonly name: KernelName;
  readonly offEventLoop = true;

  constructor(
    protected readonly native: NativeAddon,
    protected readonly threads: number,
  ) {}

  abstract accepts(model: ModelSnapshot): boolean;
  abstract topK(model: ModelSnapshot, users: Float32Array, k: number): Promise<TopK[]>;

  async prepare(_model: ModelSnapshot): Promise<void> {}

  async close(): Promise<void> {}
}
