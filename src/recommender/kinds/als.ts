import type { ModelStore } from '../../model-store/store.js';
import { topN, type Scorer } from '../../scorers/index.js';
import { alsSnapshot, answerOfRows, excludedRows, userRowOf, type ItemRecommender, type VariantAnswer, type VariantRequest } from './types.js';

/** Exact top-N of an ALS model by dot product. */
export class AlsRecommender implements ItemRecommender {
  readonly kind = 'als';

  constructor(
    private readonly store: ModelStore,
    private readonly scorer: Scorer,
    private readonly modelName: string,
  ) {}

  async recommend({ userId, n, exclude }: VariantRequest): Promise<VariantAnswer> {
    // One read of the snapshot: a swap during scoring does not affect this request.
    const model = alsSnapshot(this.store, this.modelName);
    const scored = await topN(this.scorer, model, userRowOf(model, userId), n, excludedRows(model, exclude));
    return answerOfRows(scored, model, model);
  }
}
