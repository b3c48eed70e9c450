import type { ModelSnapshot } from '../model-store/snapshot.js';
import type { Int8Layout } from '../native-addon.js';
import { splitLists, type Exclusions, type TopK } from './kernel.js';
import { NativeKernel } from './native-kernel.js';

/**
 * The native int8 scan (native/int8.c): an int8 first pass whose error bounds prove which items can be in
 * a user's top k, then their exact re-score. The answer is the exact top k, as the float32 scan gives it,
 * for any model: an int8 bundle's own codes are used, a float32 model is quantised once when prepared
 * (a quarter of its matrix's bytes, plus 16 bytes per item).
 */
export class NativeInt8Kernel extends NativeKernel {
  readonly name = 'native-int8';
  /** The scan leaves each user's excluded rows out as it meets them, so it is asked for k alone. */
  readonly excludesRows = true;
  private readonly layouts = new WeakMap<ModelSnapshot, Promise<Int8Layout>>();

  accepts(): boolean {
    return true;
  }

  override async prepare(model: ModelSnapshot): Promise<void> {
    await this.layout(model);
  }

  private layout(model: ModelSnapshot): Promise<Int8Layout> {
    let layout = this.layouts.get(model);
    if (!layout) {
      const { itemFactors, rank, itemCodes } = model;
      layout = itemCodes
        ? this.native.int8Layout(itemFactors, rank, this.threads, itemCodes.codes, itemCodes.scales)
        : this.native.int8Layout(itemFactors, rank, this.threads);
      // A failed build (memory ran out) is tried again by the next request, not kept as the model's answer.
      layout.catch(() => this.layouts.delete(model));
      this.layouts.set(model, layout);
    }
    return layout;
  }

  async topK(model: ModelSnapshot, users: Float32Array, k: number, exclusions?: Exclusions, background = false): Promise<TopK[]> {
    const { itemFactors, rank } = model;
    const { rows, scores } = await this.native.topKInt8(await this.layout(model), itemFactors, rank, users, k, this.threadsFor(background), exclusions?.rows, exclusions?.offsets, background);
    return splitLists(rows, scores, users.length / rank, Math.min(k, model.numItems));
  }
}
