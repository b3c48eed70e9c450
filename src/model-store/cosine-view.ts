import { inRowSlices } from './row-slices.js';
import type { ModelSnapshot } from './snapshot.js';

/** Rows per slice: the event loop turns between slices while a large model's view is built. */
const SLICE_ROWS = 16384;

/**
 * A model whose items are the unit-length item factors of `model`, and whose "users" are the same rows:
 * the dot product of user row i with item j is then the cosine of items i and j, so the scoring kernels
 * and batching answer "items like item i" as they answer a user. A float32 copy of the item matrix on
 * the heap, built in slices; an all-zero item stays zero (cosine 0 with everything).
 */
export async function cosineView(model: ModelSnapshot): Promise<ModelSnapshot> {
  const k = model.rank;
  const unit = new Float32Array(model.numItems * k);
  await inRowSlices(model.numItems, SLICE_ROWS, (first, end) => {
    for (let row = first; row < end; row++) {
      let norm = 0;
      for (let i = 0; i < k; i++) norm += model.itemFactors[row * k + i]! ** 2;
      const inverse = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let i = 0; i < k; i++) unit[row * k + i] = model.itemFactors[row * k + i]! * inverse;
    }
  });
  return Object.freeze({
    ...model,
    numUsers: model.numItems,
    userIds: model.itemIds,
    userFactors: unit,
    itemFactors: unit,
    itemEncoding: 'float32',
    itemCodes: null,
    itemGram: null,
  });
}
