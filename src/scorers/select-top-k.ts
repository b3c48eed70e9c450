import type { TopK } from './kernel.js';

/** True when (sa, ra) ranks below (sb, rb): lower score, or the same score and a higher row. */
function worse(sa: number, ra: number, sb: number, rb: number): boolean {
  return sa < sb || (sa === sb && ra > rb);
}

/**
 * Exact top-k of a score vector with a k-sized min-heap whose root is the worst kept entry:
 * O(n log k), no sort of all n scores.
 */
export function selectTopK(scores: Float32Array, k: number): TopK {
  const size = Math.min(k, scores.length);
  const heapRows = new Int32Array(size);
  const heapScores = new Float32Array(size);
  let filled = 0;
  const siftDown = (start: number) => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < filled && worse(heapScores[l]!, heapRows[l]!, heapScores[w]!, heapRows[w]!)) w = l;
      if (r < filled && worse(heapScores[r]!, heapRows[r]!, heapScores[w]!, heapRows[w]!)) w = r;
      if (w === i) return;
      [heapScores[i], heapScores[w]] = [heapScores[w]!, heapScores[i]!];
      [heapRows[i], heapRows[w]] = [heapRows[w]!, heapRows[i]!];
      i = w;
    }
  };
  for (let row = 0; row < scores.length; row++) {
    const s = scores[row]!;
    if (filled < size) {
      let i = filled++;
      heapScores[i] = s;
      heapRows[i] = row;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(heapScores[i]!, heapRows[i]!, heapScores[p]!, heapRows[p]!)) break;
        [heapScores[i], heapScores[p]] = [heapScores[p]!, heapScores[i]!];
        [heapRows[i], heapRows[p]] = [heapRows[p]!, heapRows[i]!];
        i = p;
      }
    } else if (size > 0 && worse(heapScores[0]!, heapRows[0]!, s, row)) {
      heapScores[0] = s;
      heapRows[0] = row;
      siftDown(0);
    }
  }
  const order = Array.from({ length: filled }, (_, i) => i).sort((a, b) =>
    worse(heapScores[a]!, heapRows[a]!, heapScores[b]!, heapRows[b]!) ? 1 : -1,
  );
  return { rows: order.map((i) => heapRows[i]!), scores: order.map((i) => heapScores[i]!) };
}
