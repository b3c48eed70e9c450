import { RecserveError } from '../../errors.js';
import { rowOfId } from '../../model-store/factors.js';
import type { ModelSnapshot } from '../../model-store/snapshot.js';
import type { ModelStore } from '../../model-store/store.js';
import type { TopK } from '../../scorers/kernel.js';

import type { ScoredItemId } from '../../shared.js';
import { itemsJsonOf } from '../items-json.js';

export type { ScoredItemId };

export interface VariantAnswer {
  items: ScoredItemId[];
  /** The model update that answered; null for a static list. */
  model: { name: string; version: string } | null;
  /** What JSON.stringify writes for `items`, where the recommender wrote it already (a batch line's, see items-json.ts). */
  itemsJson?: string;
}

/** Something a user did to an item: a rating (explicit feedback) or a strength such as a count (implicit). */
export interface ItemInteraction {
  itemId: string;
  rating?: number;
}

export interface VariantRequest {
  /** Null for an anonymous request: no model row, no cached list. */
  userId: string | null;
  n: number;
  exclude: readonly string[];
  /** What the user just did (POST /recommend), for fold-in. */
  interactions?: readonly ItemInteraction[];
  /** A batch line: scored after the live requests that wait with it. */
  batch?: boolean;
}

/** What a variant's `recommender` names: something that ranks items for a user. */
export interface ItemRecommender {
  readonly kind: 'als' | 'onnx' | 'static';
  recommend(request: VariantRequest): Promise<VariantAnswer>;
  /**
   * recommend for each of many requests (batch lines), the answers in order: one look at the model and one
   * set of excluded rows for them all. Only recommenders that gain from it.
   */
  recommendMany?(requests: readonly VariantRequest[]): Promise<VariantAnswer>[];
  /** Ranks items for a user the model does not know, from `request.interactions`; only models that can. */
  foldIn?(request: VariantRequest): Promise<VariantAnswer>;
  /** Whether the model is loaded and has no such user (an anonymous request has none): fold-in's cue. */
  isUnknownUser?(userId: string | null): boolean;
}

/** The serving ALS snapshot of `name`, or the reason there is none. */
export function alsSnapshot(store: ModelStore, name: string): ModelSnapshot {
  const model = store.get(name);
  if (!model) throw new RecserveError('model_unavailable', `model ${name} is not loaded`);
  if (model.kind !== 'als') throw new RecserveError('model_unavailable', `model ${name} is not an ALS bundle`);
  return model;
}

export function userRowOf(model: ModelSnapshot, userId: string | null): number {
  if (userId === null) throw new RecserveError('unknown_user', `an anonymous request has no row in model ${model.name}`);
  const row = rowOfId(model.userIds, userId);
  if (row < 0) throw new RecserveError('unknown_user', `user ${userId} is not known to model ${model.name}`);
  return row;
}

/**
 * A ranked list of rows of the `items` model as item ids, with the update that answered; `asJson` also
 * writes the items' JSON (for a batch line, which is written as JSON).
 */
export function answerOfList(list: TopK, items: ModelSnapshot, answeredBy: { name: string; version: string }, asJson = false): VariantAnswer {
  const { rows, scores } = list;
  const scored: ScoredItemId[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) scored[i] = { itemId: String(items.itemIds[rows[i]!]), score: scores[i]! };
  const model = { name: answeredBy.name, version: answeredBy.version };
  return asJson ? { items: scored, model, itemsJson: itemsJsonOf(list, items.itemIds) } : { items: scored, model };
}

const NO_ROWS: ReadonlySet<number> = new Set();

/** Rows of the excluded item ids the model knows (`known`: rows already looked up); others cannot be recommended anyway. */
export function excludedRows(model: ModelSnapshot, exclude: readonly string[], known?: ReadonlyMap<string, number>): ReadonlySet<number> {
  if (exclude.length === 0) return NO_ROWS;
  const rows = new Set<number>();
  for (const itemId of exclude) {
    const row = known?.get(itemId) ?? rowOfId(model.itemIds, itemId);
    if (row >= 0) rows.add(row);
  }
  return rows;
}

/** The first n items of a ranked list that are not excluded: static lists and cached fallback lists alike. */
export function firstNotExcluded(list: readonly ScoredItemId[], exclude: readonly string[], n: number): ScoredItemId[] {
  const skip = new Set(exclude);
  const items: ScoredItemId[] = [];
  for (const item of list) {
    if (items.length === n) break;
    if (!skip.has(item.itemId)) items.push(item);
  }
  return items;
}
