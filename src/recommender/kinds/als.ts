import { RecserveError } from '../../errors.js';
import { rowOfId } from '../../model-store/factors.js';
import type { ModelSnapshot } from '../../model-store/snapshot.js';
import type { ModelStore } from '../../model-store/store.js';
import { foldIn, type Interaction } from '../../scorers/fold-in.js';
import { rankRows, rowsToExclude, type Scorer } from '../../scorers/index.js';
import { alsSnapshot, answerOfList, excludedRows, userRowOf, type ItemInteraction, type ItemRecommender, type VariantAnswer, type VariantRequest } from './types.js';

/**
 * The interactions with items the model knows, as rows; items it does not know say nothing about the
 * user's factor and are left out. An explicit-feedback model needs each rating. `rowOf` keeps each id's
 * row (-1: unknown) for the exclusions, which usually name the same items: each id is looked up once.
 */
function interactionRows(model: ModelSnapshot, interactions: readonly ItemInteraction[], explicit: boolean, rowOf: Map<string, number>): Interaction[] {
  const rows: Interaction[] = [];
  for (let i = 0; i < interactions.length; i++) {
    const { itemId, rating } = interactions[i]!;
    if (rating === undefined && explicit) throw new RecserveError('invalid_request', `interactions[${i}].rating is required: model ${model.name} was trained on explicit ratings`);
    const row = rowOfId(model.itemIds, itemId);
    rowOf.set(itemId, row);
    if (row >= 0) rows.push({ row, rating: rating ?? 1 });
  }
  return rows;
}

/** Exact top-N of an ALS model by dot product; users it does not know can be folded in from what they did. */
export class AlsRecommender implements ItemRecommender {
  readonly kind = 'als';

  constructor(
    private readonly store: ModelStore,
    private readonly scorer: Scorer,
    private readonly modelName: string,
  ) {}

  recommend(request: VariantRequest): Promise<VariantAnswer> {
    return this.recommendMany([request])[0]!;
  }

  recommendMany(requests: readonly VariantRequest[]): Promise<VariantAnswer>[] {
    let model: ModelSnapshot;
    try {
      // One read of the snapshot: a swap during scoring does not affect these requests.
      model = alsSnapshot(this.store, this.modelName);
    } catch (err) {
      return requests.map(() => Promise.reject(err));
    }
    // A batch's lines share one exclude list: its rows are found once.
    let lastExclude: readonly string[] | undefined;
    let lastRows: Int32Array | undefined;
    return requests.map(({ userId, n, exclude, batch }) => {
      let row: number;
      try {
        row = userRowOf(model, userId);
      } catch (err) {
        return Promise.reject(err);
      }
      if (exclude !== lastExclude) [lastExclude, lastRows] = [exclude, rowsToExclude(excludedRows(model, exclude))];
      return rankRows(this.scorer, model, row, n, lastRows, batch).then((list) => answerOfList(list, model, model, batch));
    });
  }

  isUnknownUser(userId: string | null): boolean {
    const model = this.store.get(this.modelName);
    return model?.kind === 'als' && (userId === null || rowOfId(model.userIds, userId) < 0);
  }

  async foldIn({ n, exclude, interactions = [] }: VariantRequest): Promise<VariantAnswer> {
    const model = alsSnapshot(this.store, this.modelName);
    const training = model.manifest.training;
    if (!training) throw new RecserveError('unknown_user', `model ${model.name} was imported without its training parameters, so it cannot fold in a new user`);
    const rowOf = new Map<string, number>();
    const rows = interactionRows(model, interactions, !training.implicitPrefs, rowOf);
    const vector = rows.length > 0 ? foldIn(model, training, model.itemGram, rows) : null;
    if (!vector) throw new RecserveError('unknown_user', `none of the ${interactions.length} interactions names an item model ${model.name} can fold in`);
    const list = await rankRows(this.scorer, model, vector, n, rowsToExclude(excludedRows(model, exclude, rowOf)));
    return answerOfList(list, model, model);
  }
}
