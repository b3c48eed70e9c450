import { RecserveError } from '../../errors.js';
import type { ModelStore } from '../../model-store/store.js';
import { topNByGraph } from '../../scorers/onnx-model.js';
import { alsSnapshot, answerOfList, excludedRows, userRowOf, type ItemRecommender, type VariantAnswer, type VariantRequest } from './types.js';

/**
 * An ONNX graph fed the user's ALS factor vector that scores every item of that ALS model; recserve
 * takes the top-N (scorers/onnx-model.ts).
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
    const scored = await topNByGraph(graph, factors, userRowOf(factors, userId), n, excludedRows(factors, exclude));
    return answerOfList(scored, factors, graph);
  }
}
