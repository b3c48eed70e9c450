import type { ModelSnapshot } from '../model-store/snapshot.js';
import type { Query, Scorer } from './scorer.js';

export interface ScoredItem {
  row: number;
  score: number;
}

/**
 * The best `n` items for a user (a row of the model, or a vector), skipping `excludeRows`: asks the
 * scorer for enough extra candidates to cover every exclusion, so the answer stays exact.
 */
export async function topN(scorer: Pick<Scorer, 'topK'>, model: ModelSnapshot, query: Query, n: number, excludeRows: ReadonlySet<number>): Promise<ScoredItem[]> {
  const k = Math.min(model.numItems, n + excludeRows.size);
  const { rows, scores } = await scorer.topK(model, query, k);
  const result: ScoredItem[] = [];
  for (let i = 0; i < rows.length && result.length < n; i++) {
    const row = rows[i]!;
    if (!excludeRows.has(row)) result.push({ row, score: scores[i]! });
  }
  return result;
}
