import type { ScoredItem } from '../../src/scorers/index.js';

/**
 * recall@k of an approximate list against the exact one: the share of the exact top-k that the
 * approximate list holds. An item scoring exactly the exact k-th score counts as a hit, because tied
 * items are interchangeable (scores compared after float32 rounding).
 */
export function recallAtK(exact: readonly ScoredItem[], approximate: readonly ScoredItem[]): number {
  if (exact.length === 0) return 1;
  const exactRows = new Set(exact.map((s) => s.row));
  const kthScore = Math.fround(exact.at(-1)!.score);
  const hits = approximate.filter((s) => exactRows.has(s.row) || Math.fround(s.score) >= kthScore).length;
  return Math.min(hits, exact.length) / exact.length;
}
