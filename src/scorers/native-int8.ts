import type { ModelSnapshot } from '../model-store/snapshot.js';
import type { NativeAddon } from '../native-addon.js';
import { quantizeUsers } from './int8-users.js';
import { splitLists, type TopK } from './kernel.js';
import { NativeKernel } from './native-kernel.js';

/**
 * The native int8 scan (native/int8.c): candidates from the item codes, up to 4 users per pass over them,
 * then the exact float32 re-score of `k + rescoreCandidates` of them.
 */
export class NativeInt8Kernel extends NativeKernel {
  readonly name = 'native-int8';

  constructor(
    native: NativeAddon,
    threads: number,
    private readonly rescoreCandidates: number,
  ) {
    super(native, threads);
  }

  accepts(model: ModelSnapshot): boolean {
    return model.itemCodes !== null;
  }

  async topK(model: ModelSnapshot, users: Float32Array, k: number): Promise<TopK[]> {
    const { codes, offsets, scales } = model.itemCodes!;
    const userCodes = quantizeUsers(users, model.rank);
    const { rows, scores } = await this.native.topKInt8(codes, offsets, scales, model.itemFactors, model.rank, userCodes, users, k, k + this.rescoreCandidates, this.threads);
    return splitLists(rows, scores, users.length / model.rank, Math.min(k, model.numItems));
  }
}
