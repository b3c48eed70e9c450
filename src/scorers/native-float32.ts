import type { ModelSnapshot } from '../model-store/snapshot.js';
import type { NativeAddon } from '../native-addon.js';
import { splitLists, type ScoringKernel, type TopK } from './kernel.js';

/** The native float32 scan (native/topk.c): one pass over the mapped matrix for the whole batch, fused with top-k. */
export class NativeFloat32Kernel implements ScoringKernel {
  readonly name = 'native-float32';
  readonly offEventLoop = true;

  constructor(
    private readonly native: NativeAddon,
    private readonly threads: number,
  ) {}

  accepts(): boolean {
    return true;
  }

  async prepare(): Promise<void> {}

  async topK(model: ModelSnapshot, users: Float32Array, k: number): Promise<TopK[]> {
    const { rows, scores } = await this.native.topK(model.itemFactors, model.rank, users, k, this.threads);
    return splitLists(rows, scores, users.length / model.rank, Math.min(k, model.numItems));
  }

  async close(): Promise<void> {}
}
