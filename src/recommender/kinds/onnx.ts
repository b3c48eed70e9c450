import ort from 'onnxruntime-node';
import { RecserveError } from '../../errors.js';
import { ONNX_INPUT, ONNX_OUTPUT } from '../../model-store/onnx-bundle.js';
import type { ModelStore } from '../../model-store/store.js';
import { userVector } from '../../scorers/kernel.js';
import { selectTopK } from '../../scorers/select-top-k.js';
import { alsSnapshot, excludedRows, userRowOf, type ItemRecommender, type VariantAnswer, type VariantRequest } from './types.js';

/**
 * An ONNX graph fed the user's ALS factor vector (`user` [1, rank]) that scores every item of that
 * ALS model (`scores` [1, numItems], in the model's item order); recserve takes the top-N.
 */
export class OnnxRecommender implements ItemRecommender {
  readonly kind = 'onnx';

  constructor(
    private readonly store: ModelStore,
    private readonly modelName: string,
    private readonly factorsName: string,
  ) {}

  async recommend({ userId, n, exclude }: VariantRequest): Promise<VariantAnswer> {
    const graph = this.store.get(this.modelName);
    if (!graph) throw new RecserveError('model_unavailable', `model ${this.modelName} is not loaded`);
    if (graph.kind !== 'onnx') throw new RecserveError('model_unavailable', `model ${this.modelName} is not an ONNX bundle`);
    const factors = alsSnapshot(this.store, this.factorsName);
    const userRow = userRowOf(factors, userId);
    const out = await graph.session.run({ [ONNX_INPUT]: new ort.Tensor('float32', userVector(factors, userRow), [1, factors.rank]) });
    const scores = out[ONNX_OUTPUT]?.data;
    if (!(scores instanceof Float32Array) || scores.length !== factors.numItems) {
      throw new RecserveError('scoring_failed', `model ${this.modelName} gave ${scores?.length ?? 'no'} scores; ${this.factorsName} has ${factors.numItems} items`);
    }
    const skip = excludedRows(factors, exclude);
    // The output tensor is this request's own: excluded items can be pushed out in place.
    for (const row of skip) scores[row] = Number.NEGATIVE_INFINITY;
    const { rows, scores: top } = selectTopK(scores, Math.min(n, factors.numItems - skip.size));
    return {
      items: Array.from(rows, (row, i) => ({ itemId: String(factors.itemIds[row]), score: top[i]! })),
      model: { name: graph.name, version: graph.version },
    };
  }
}
