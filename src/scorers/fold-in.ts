import type { TrainingParams } from '../model-store/manifest.js';
import type { ModelSnapshot } from '../model-store/snapshot.js';
import { loadNative } from '../native-addon.js';
import { choleskySolve, choleskySolveInline, dot4, nnlsSolve, nnlsSolveInline, scratch, type CholeskySolve, type NnlsSolve } from './least-squares.js';

/** One thing a user did, as a row of the model's items. */
export interface Interaction {
  row: number;
  /** The rating (explicit feedback) or the strength, such as a count (implicit feedback). */
  rating: number;
}

/**
 * Explicit feedback with fewer ratings than the rank: (YᵀY + λI) x = Yᵀr has the same solution as
 * x = Yᵀz with (YYᵀ + λI) z = r, an m x m system instead of k x k, read from the item factors in place.
 * Writes x (rank entries) and says whether it was solved (false when the system is singular: λ = 0).
 */
export type FewRatings = (items: Float32Array, rank: number, rows: Int32Array, ratings: Float64Array, lambda: number, x: Float64Array) => boolean;

let gramScratch: Float64Array = new Float64Array(0);

/** out[p m + q] = the dot product of item rows rows[p] and rows[q] in double, for m = rows.length. */
function rowDotsInline(items: Float32Array, rank: number, rows: Int32Array, out: Float64Array): void {
  const m = rows.length;
  for (let p = 0; p < m; p++) {
    for (let q = p; q < m; q++) out[p * m + q] = out[q * m + p] = dot4(items, rows[p]! * rank, items, rows[q]! * rank, rank);
  }
}

/** FewRatings in TypeScript: for machines without the addon, which computes the same bits (native/fold.c). */
export function fewRatingsInline(items: Float32Array, k: number, rows: Int32Array, ratings: Float64Array, lambda: number, x: Float64Array): boolean {
  const m = rows.length;
  const g = (gramScratch = scratch(gramScratch, m * m));
  rowDotsInline(items, k, rows, g);
  for (let p = 0; p < m; p++) g[p * m + p]! += lambda;
  const z = choleskySolveInline(g, ratings, m);
  if (!z) return false;
  x.fill(0, 0, k);
  for (let p = 0; p < m; p++) {
    const zp = z[p]!;
    const at = rows[p]! * k;
    for (let i = 0; i < k; i++) x[i]! += zp * items[at + i]!;
  }
  return true;
}

/**
 * The normal equations of a fold-in, in double: adds weights[p] y yᵀ to the upper triangle of `a` (rank x
 * rank) and targets[p] y to `b` for each item row y = rows[p], each entry its products in interaction
 * order; then λ to the diagonal, and the upper triangle mirrored into the lower.
 */
export type NormalEquations = (items: Float32Array, rank: number, rows: Int32Array, weights: Float64Array, targets: Float64Array, lambda: number, a: Float64Array, b: Float64Array) => void;

/** NormalEquations in TypeScript: for machines without the addon, which computes the same bits (native/fold.c). */
export function normalEquationsInline(items: Float32Array, k: number, rows: Int32Array, weights: Float64Array, targets: Float64Array, lambda: number, a: Float64Array, b: Float64Array): void {
  for (let p = 0; p < rows.length; p++) {
    const row = rows[p]! * k;
    for (let i = 0; i < k; i++) {
      const wy = weights[p]! * items[row + i]!;
      for (let j = i; j < k; j++) a[i * k + j]! += wy * items[row + j]!;
      b[i]! += targets[p]! * items[row + i]!;
    }
  }
  for (let i = 0; i < k; i++) {
    a[i * k + i]! += lambda;
    for (let j = 0; j < i; j++) a[i * k + j] = a[j * k + i]!;
  }
}

/** The arithmetic of a fold-in: the addon's where it was built, the same bits in TypeScript otherwise. */
export interface FoldMath {
  fewRatings: FewRatings;
  normalEquations: NormalEquations;
  choleskySolve: CholeskySolve;
  nnlsSolve: NnlsSolve;
}

export const inlineFoldMath: FoldMath = {
  fewRatings: fewRatingsInline,
  normalEquations: normalEquationsInline,
  choleskySolve: choleskySolveInline,
  nnlsSolve: nnlsSolveInline,
};

const addon = loadNative();
/**
 * The addon's where it was built. On the event loop at rank 64 in TypeScript: 20 explicit ratings
 * 46-48 µs (the addon: 11-12 µs, much of it reading the rows), an implicit model's normal equations and solve 260-400 µs, a nonnegative model's 1.1-2.1 ms.
 */
export const defaultFoldMath: FoldMath = addon ? { fewRatings: addon.fewRatings, normalEquations: addon.normalEquations, choleskySolve, nnlsSolve } : inlineFoldMath;

/** Explicit feedback with fewer ratings than the rank (FewRatings); null when the m x m system is singular. */
function explicitFewRatings(model: ModelSnapshot, interactions: readonly Interaction[], lambda: number, math: FoldMath): Float64Array | null {
  const m = interactions.length;
  // Loops, not TypedArray.from with a mapping function: V8 runs that through its slow generic path.
  const rows = new Int32Array(m);
  const ratings = new Float64Array(m);
  for (let p = 0; p < m; p++) {
    rows[p] = interactions[p]!.row;
    ratings[p] = interactions[p]!.rating;
  }
  const x = new Float64Array(model.rank);
  return math.fewRatings(model.itemFactors, model.rank, rows, ratings, lambda, x) ? x : null;
}

/**
 * The user factor Spark's ALS would compute for a user with these interactions from the model's item
 * factors, as in its last half-iteration (ALS.computeFactors): in double precision, the normal equations
 * Σ y yᵀ x = Σ r y (explicit), or YᵀY + Σ α|r| y yᵀ against Σ (1 + α|r|) y over positive r (implicit);
 * λ = regParam × the number of explicit (explicit: all; implicit: positive) ratings on the diagonal;
 * Cholesky, or non-negative least squares when trained nonnegative. Null when the system has no
 * solution (no interaction counts and nothing regularises it).
 */
export function foldIn(
  model: ModelSnapshot,
  training: TrainingParams,
  gram: Float64Array | null,
  interactions: readonly Interaction[],
  math: FoldMath = defaultFoldMath,
): Float32Array | null {
  const k = model.rank;
  const m = interactions.length;
  const explicitCount = training.implicitPrefs ? interactions.filter((i) => i.rating > 0).length : m;
  const lambda = explicitCount * training.regParam;
  if (!training.implicitPrefs && !training.nonnegative && m < k && lambda > 0) {
    const x = explicitFewRatings(model, interactions, lambda, math);
    if (x) return finiteFactor(x);
  }
  const rows = new Int32Array(m);
  const weights = new Float64Array(m);
  const targets = new Float64Array(m);
  for (let p = 0; p < m; p++) {
    const { row, rating } = interactions[p]!;
    rows[p] = row;
    // Spark's extension for r <= 0 (implicit): the confidence grows with |r|, the preference is 0.
    weights[p] = training.implicitPrefs ? training.alpha * Math.abs(rating) : 1;
    targets[p] = training.implicitPrefs ? (rating > 0 ? 1 + weights[p]! : 0) : rating;
  }
  const a = training.implicitPrefs ? Float64Array.from(gram!) : new Float64Array(k * k);
  const b = new Float64Array(k);
  math.normalEquations(model.itemFactors, k, rows, weights, targets, lambda, a, b);
  const x = training.nonnegative ? math.nnlsSolve(a, b, k) : math.choleskySolve(a, b, k);
  return finiteFactor(x);
}

/** The factor in float32, or null when the solve did not give finite values (nothing sensible to score). */
function finiteFactor(x: Float64Array | null): Float32Array | null {
  if (!x) return null;
  const factor = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    factor[i] = x[i]!;
    if (!Number.isFinite(factor[i])) return null;
  }
  return factor;
}
