import type { ModelSnapshot } from '../model-store/snapshot.js';
import type { Query, Scorer } from './scorer.js';

export interface ScoredItem {
  row: number;
  score: number;
}

/**
 * The best `n` items for a user (a row of the model, or a vector), never one of `excludeRows`; a
 * `background` query (a batch line) after the live ones.
 */
export async function topN(scorer: Pick<Scorer, 'topK'>, model: ModelSnapshot, query: Query, n: number, excludeRows: ReadonlySet<number>, background = false): Promise<ScoredItem[]> {
  const { rows, scores } = await scorer.topK(model, query, Math.min(n, model.numItems), excludeRows.size > 0 ? Int32Array.from(excludeRows).sort() : undefined, background);
  // A loop, not Array.from: over a typed array that takes an iterator, garbage for every request.
  const items: ScoredItem[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) items[i] = { row: rows[i]!, score: scores[i]! };
  return items;
}
