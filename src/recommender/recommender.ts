import { RecserveError } from '../errors.js';
import { findRow, parseInt32Id } from '../model-store/factors.js';
import type { ModelStore } from '../model-store/store.js';
import { topN, type ScoringKernel } from '../scorers/index.js';

export interface RecommendRequest {
  userId: string;
  n: number;
  exclude: readonly string[];
  /** A configured model; the default model when absent. */
  model?: string;
}

export interface Recommendation {
  userId: string;
  items: { itemId: string; score: number }[];
  model: { name: string; version: string };
  source: 'model';
}

/** Turns a request into items: picks the model snapshot, maps ids to rows, scores, maps rows back to ids. */
export class Recommender {
  constructor(
    private readonly store: ModelStore,
    private readonly kernel: ScoringKernel,
    private readonly defaultModel: string,
  ) {}

  async recommend(request: RecommendRequest): Promise<Recommendation> {
    const name = request.model ?? this.defaultModel;
    if (!this.store.has(name)) throw new RecserveError('unknown_model', `model ${name} is not configured`);
    // One read of the snapshot: a swap during scoring does not affect this request.
    const model = this.store.get(name);
    if (!model) throw new RecserveError('model_unavailable', `model ${name} is not loaded yet`);
    const id = parseInt32Id(request.userId);
    const userRow = id === null ? -1 : findRow(model.userIds, id);
    if (userRow < 0) throw new RecserveError('unknown_user', `user ${request.userId} is not known to model ${name}`);
    const excludeRows = new Set<number>();
    for (const itemId of request.exclude) {
      const itemIdNumber = parseInt32Id(itemId);
      const row = itemIdNumber === null ? -1 : findRow(model.itemIds, itemIdNumber);
      if (row >= 0) excludeRows.add(row);
    }
    const scored = await topN(this.kernel, model, userRow, request.n, excludeRows);
    return {
      userId: request.userId,
      items: scored.map(({ row, score }) => ({ itemId: String(model.itemIds[row]), score })),
      model: { name, version: model.version },
      source: 'model',
    };
  }
}
