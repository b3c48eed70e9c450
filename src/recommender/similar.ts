import { RecserveError } from '../errors.js';
import { cosineView } from '../model-store/cosine-view.js';
import { rowOfId } from '../model-store/factors.js';
import type { ModelSnapshot } from '../model-store/snapshot.js';
import type { ModelStore } from '../model-store/store.js';
import { rankRows, rowsToExclude, type Scorer } from '../scorers/index.js';
import { alsSnapshot, answerOfList, excludedRows, type VariantAnswer } from './kinds/types.js';

export interface SimilarRequest {
  /** A configured ALS model. */
  model: string;
  itemId: string;
  n: number;
  exclude: readonly string[];
}

/**
 * Items closest to an item by the cosine of their factors, exact, through the same kernels and batching
 * as recommendations. Each model update gets its unit-length view once, on its first request.
 */
export class SimilarItems {
  private readonly views = new WeakMap<ModelSnapshot, Promise<ModelSnapshot>>();

  constructor(
    private readonly store: ModelStore,
    private readonly scorer: Scorer,
  ) {}

  async similar({ model: name, itemId, n, exclude }: SimilarRequest): Promise<VariantAnswer> {
    if (!this.store.has(name)) throw new RecserveError('unknown_model', `model ${name} is not configured`);
    const model = alsSnapshot(this.store, name);
    const row = rowOfId(model.itemIds, itemId);
    if (row < 0) throw new RecserveError('unknown_item', `item ${itemId} is not known to model ${name}`);
    const view = await this.viewOf(model);
    // The item itself is its own closest match: never an answer.
    const list = await rankRows(this.scorer, view, row, n, rowsToExclude(excludedRows(view, [itemId, ...exclude])));
    return answerOfList(list, model, model);
  }

  private viewOf(model: ModelSnapshot): Promise<ModelSnapshot> {
    let view = this.views.get(model);
    if (!view) {
      view = cosineView(model).then(async (v) => {
        await this.scorer.prepare(v);
        return v;
      });
      view.catch(() => this.views.delete(model));
      this.views.set(model, view);
    }
    return view;
  }
}
