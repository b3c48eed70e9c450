import type { TopK } from './kernel.js';

/**
 * Exact float32 scores for candidate rows, best `k` first, exact ties by row ascending: the second
 * pass after a reduced-precision first pass, so returned scores are the model's own.
 */
export function rescore(itemFactors: Float32Array, rank: number, user: Float32Array, candidates: ArrayLike<number>, k: number): TopK {
  const scored = Array.from(candidates, (row) => {
    let sum = 0;
    for (let j = 0, base = row * rank; j < rank; j++) sum += user[j]! * itemFactors[base + j]!;
    return { row, score: Math.fround(sum) };
  });
  scored.sort((a, b) => b.score - a.score || a.row - b.row);
  const best = scored.slice(0, k);
  return { rows: best.map((s) => s.row), scores: best.map((s) => s.score) };
}
