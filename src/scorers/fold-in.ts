import type { TrainingParams } from '../model-store/manifest.js';
import type { ModelSnapshot } from '../model-store/snapshot.js';
import { choleskySolve, nnlsSolve } from './least-squares.js';

/** One thing a user did, as a row of the model's items. */
export interface Interaction {
  row: number;
  /** The rating (explicit feedback) or the strength, such as a count (implicit feedback). */
  rating: number;
}

/** The factors of the interactions' items, in double precision: m rows of k. */
function itemRows(model: ModelSnapshot, interactions: readonly Interaction[]): Float64Array {
  const k = model.rank;
  const y = new Float64Array(interactions.length * k);
  interactions.forEach(({ row }, p) => {
    for (let i = 0; i < k; i++) y[p * k + i] = model.itemFactors[row * k + i]!;
  });
  return y;
}

/**
 * Explicit feedback with fewer ratings than the rank: (YᵀY + λI) x = Yᵀr has the same solution as
 * x = Yᵀz with (YYᵀ + λI) z = r, an m x m system instead of k x k. Null when it is singular (λ = 0).
 */
function explicitFewRatings(y: Float64Array, ratings: Float64Array, k: number, lambda: number): Float64Array | null {
  const m = ratings.length;
  const g = new Float64Array(m * m);
  for (let p = 0; p < m; p++) {
    for (let q = p; q < m; q++) {
      let dot = 0;
      for (let i = 0; i < k; i++) dot += y[p * k + i]! * y[q * k + i]!;
      g[p * m + q] = dot;
      g[q * m + p] = dot;
    }
    g[p * m + p]! += lambda;
  }
  const z = choleskySolve(g, ratings, m);
  if (!z) return null;
  const x = new Float64Array(k);
  for (let p = 0; p < m; p++) for (let i = 0; i < k; i++) x[i]! += z[p]! * y[p * k + i]!;
  return x;
}

/**
 * The user factor Spark's ALS would compute for a user with these interactions from the model's item
 * factors, as in its last half-iteration (ALS.computeFactors): in double precision, the normal equations
 * Σ y yᵀ x = Σ r y (explicit), or YᵀY + Σ α|r| y yᵀ against Σ (1 + α|r|) y over positive r (implicit);
 * λ = regParam × the number of explicit (explicit: all; implicit: positive) ratings on the diagonal;
 * Cholesky, or non-negative least squares when trained nonnegative. Null when the system has no
 * solution (no interaction counts and nothing regularises it).
 */
export function foldIn(model: ModelSnapshot, training: TrainingParams, gram: Float64Array | null, interactions: readonly Interaction[]): Float32Array | null {
  const k = model.rank;
  const m = interactions.length;
  const y = itemRows(model, interactions);
  const explicitCount = training.implicitPrefs ? interactions.filter((i) => i.rating > 0).length : m;
  const lambda = explicitCount * training.regParam;
  if (!training.implicitPrefs && !training.nonnegative && m < k && lambda > 0) {
    const x = explicitFewRatings(y, Float64Array.from(interactions, (i) => i.rating), k, lambda);
    if (x) return finiteFactor(x);
  }
  const a = training.implicitPrefs ? Float64Array.from(gram!) : new Float64Array(k * k);
  const b = new Float64Array(k);
  interactions.forEach(({ rating }, p) => {
    let weight = 1;
    let target = rating;
    if (training.implicitPrefs) {
      // Spark's extension for r <= 0: the confidence grows with |r|, the preference is 0.
      weight = training.alpha * Math.abs(rating);
      target = rating > 0 ? 1 + weight : 0;
    }
    const row = p * k;
    // The upper triangle only; mirrored below once every interaction is in.
    for (let i = 0; i < k; i++) {
      const wy = weight * y[row + i]!;
      for (let j = i; j < k; j++) a[i * k + j]! += wy * y[row + j]!;
      b[i]! += target * y[row + i]!;
    }
  });
  for (let i = 0; i < k; i++) {
    a[i * k + i]! += lambda;
    for (let j = 0; j < i; j++) a[i * k + j] = a[j * k + i]!;
  }
  const x = training.nonnegative ? nnlsSolve(a, b, k) : choleskySolve(a, b, k);
  return finiteFactor(x);
}

/** The factor in float32, or null when the solve did not give finite values (nothing sensible to score). */
function finiteFactor(x: Float64Array | null): Float32Array | null {
  if (!x) return null;
  const factor = Float32Array.from(x);
  return factor.every(Number.isFinite) ? factor : null;
}
