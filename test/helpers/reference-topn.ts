import { dotTolerance } from './fixtures.js';

/** Spark's item factors in the order the parquet files hold them. */
export interface ReferenceItems {
  rank: number;
  ids: Int32Array;
  factors: Float32Array;
}

/** What the service answered for a batch of users: up to n items each. */
export interface ServedBatch {
  n: number;
  userIds: Int32Array;
  userFactors: Float32Array;
  counts: Int32Array;
  itemIds: Int32Array;
  scores: Float32Array;
}

/** Items by descending norm, so a scan can stop once no remaining item can reach the cutoff. */
interface ScanOrder {
  rows: Uint32Array;
  norms: Float64Array;
  positionOf: Uint32Array;
  rowOfItem: Map<number, number>;
}

function scanOrder(items: ReferenceItems): ScanOrder {
  const { rank, factors } = items;
  const count = items.ids.length;
  const norms = new Float64Array(count);
  for (let row = 0; row < count; row++) {
    let sq = 0;
    for (let k = 0; k < rank; k++) sq += factors[row * rank + k]! ** 2;
    norms[row] = Math.sqrt(sq);
  }
  const rows = new Uint32Array(count).map((_, i) => i).sort((a, b) => norms[b]! - norms[a]!);
  const positionOf = new Uint32Array(count);
  rows.forEach((row, pos) => (positionOf[row] = pos));
  const rowOfItem = new Map<number, number>();
  items.ids.forEach((id, row) => rowOfItem.set(id, row));
  return { rows, norms, positionOf, rowOfItem };
}

/** Float32 inputs summed in float64, rounded to float32: within rounding of Spark's own float32 sum. */
function referenceDot(user: Float32Array, factors: Float32Array, offset: number, rank: number): number {
  let sum = 0;
  for (let k = 0; k < rank; k++) sum += user[k]! * factors[offset + k]!;
  return Math.fround(sum);
}

/**
 * Checks one user's served list against brute force: every served score equals Spark's float32 dot
 * product (up to summation order), nothing scoring clearly above the n-th reference score is
 * missing, nothing clearly below it is served, and exact ties come in id order. The scan visits
 * items by descending norm and stops only when Cauchy-Schwarz (u·i <= |u||i|) proves no remaining
 * item can reach the n-th best score, so it is exact. Returns a failure message, or null.
 */
export function checkUser(items: ReferenceItems, order: ScanOrder, batch: ServedBatch, u: number, scratch: Float64Array): string | null {
  const { rank, factors } = items;
  const numItems = items.ids.length;
  const user = batch.userFactors.subarray(u * rank, (u + 1) * rank);
  const userId = batch.userIds[u];
  let userNorm = 0;
  for (let k = 0; k < rank; k++) userNorm += user[k]! ** 2;
  userNorm = Math.sqrt(userNorm) * (1 + 1e-6);
  const want = Math.min(batch.n, numItems);
  const top: number[] = [];
  let visited = 0;
  for (; visited < numItems; visited++) {
    const row = order.rows[visited]!;
    if (top.length === want && userNorm * order.norms[row]! < top[want - 1]!) break;
    const s = referenceDot(user, factors, row * rank, rank);
    scratch[row] = s;
    if (top.length < want || s > top[want - 1]!) {
      let i = top.length < want ? top.length : want - 1;
      top[i] = s;
      while (i > 0 && top[i - 1]! < s) {
        top[i] = top[i - 1]!;
        top[--i] = s;
      }
    }
  }
  const cutoff = top[want - 1]!;
  const refScore = (row: number) => (order.positionOf[row]! < visited ? scratch[row]! : referenceDot(user, factors, row * rank, rank));
  const itemVector = (row: number) => factors.subarray(row * rank, (row + 1) * rank);
  const count = batch.counts[u]!;
  if (count !== want) return `user ${userId}: served ${count} items, expected ${want}`;
  const served = new Set<number>();
  let cutoffTol = 0;
  for (let i = 0; i < count; i++) {
    const itemId = batch.itemIds[u * batch.n + i]!;
    const score = batch.scores[u * batch.n + i]!;
    const row = order.rowOfItem.get(itemId);
    if (row === undefined) return `user ${userId}: served unknown item ${itemId}`;
    if (served.has(itemId)) return `user ${userId}: item ${itemId} served twice`;
    served.add(itemId);
    const tol = dotTolerance(user, itemVector(row));
    cutoffTol = Math.max(cutoffTol, tol);
    const ref = refScore(row);
    if (Math.abs(score - ref) > tol) return `user ${userId}: item ${itemId} scored ${score}, Spark's dot product is ${ref}`;
    if (ref < cutoff - 2 * tol) return `user ${userId}: item ${itemId} (${ref}) is below the reference cutoff ${cutoff}`;
    if (i > 0) {
      const prevScore = batch.scores[u * batch.n + i - 1]!;
      const prevId = batch.itemIds[u * batch.n + i - 1]!;
      if (!(prevScore > score || (prevScore === score && prevId < itemId))) return `user ${userId}: not sorted by score, then id, at position ${i}`;
    }
  }
  for (let pos = 0; pos < visited; pos++) {
    const row = order.rows[pos]!;
    if (scratch[row]! > cutoff && !served.has(items.ids[row]!)) {
      const tol = dotTolerance(user, itemVector(row));
      if (scratch[row]! > cutoff + tol + cutoffTol) return `user ${userId}: item ${items.ids[row]} (${scratch[row]}) beats the cutoff ${cutoff} but was not served`;
    }
  }
  return null;
}

/** Checks every user of a batch; returns the number checked and the first failures. */
export function checkBatch(items: ReferenceItems, batch: ServedBatch): { checked: number; failures: string[] } {
  const order = scanOrder(items);
  const scratch = new Float64Array(items.ids.length);
  const failures: string[] = [];
  for (let u = 0; u < batch.userIds.length; u++) {
    const failure = checkUser(items, order, batch, u, scratch);
    if (failure && failures.length < 5) failures.push(failure);
  }
  return { checked: batch.userIds.length, failures };
}
