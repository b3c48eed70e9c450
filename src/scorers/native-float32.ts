import type { ModelSnapshot } from '../model-store/snapshot.js';
import { splitLists, type Exclusions, type TopK } from './kernel.js';
import { NativeKernel } from './native-kernel.js';

/** The native float32 scan (native/topk.c): one pass over the mapped matrix for the whole batch, fused with top-k. */
export class NativeFloat32Kernel extends NativeKernel {
  readonly name = 'native-float32';
  readonly excludesRows = true;

  accepts(): boolean {
    return true;
  }

  async topK(model: ModelSnapshot, users: Float32Array, k: number, exclusions?: Exclusions, background = false): Promise<TopK[]> {
    const { rows, scores } = await this.native.topK(model.itemFactors, model.rank, users, k, this.threadsFor(background), exclusions?.rows, exclusions?.offsets, background);
    return splitLists(rows, scores, users.length / model.rank, Math.min(k, model.numItems));
  }
}
