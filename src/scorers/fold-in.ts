import type { TrainingParams } from '../model-store/manifest.js';
import type { ModelSnapshot } from '../model-store/snapshot.js';
import { choleskySolve, nnlsSolve } from './least-squares.js';

/** One thing a user did, as a row of the model's items. */
export interface Interaction {
  row: number;
  /** The rating (explicit feedback) or the strength, such as a count (implicit feedback). */
  rating: number;
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
  const a = training.implicitPrefs ? Float64Array.from(gram!) : new Float64Array(k * k);
  const b = new Float64Array(k);
  const y = new Float64Array(k);
  let explicitCount = 0;
  for (const { row, rating } of interactions) {
    for (let i = 0; i < k; i++) y[i] = model.itemFactors[row * k + i]!;
    let weight = 1;
    let target = rating;
    if (training.implicitPrefs) {
      // Spark's extension for r <= 0: the confidence grows with |r|, the preference is 0.
      weight = training.alpha * Math.abs(rating);
      target = rating > 0 ? 1 + weight : 0;
      if (rating > 0) explicitCount++;
    } else {
      explicitCount++;
    }
    for (let i = 0; i < k; i++) {
      const wy = weight * y[i]!;
      for (let j = 0; j < k; j++) a[i * k + j]! += wy * y[j]!;
      b[i]! += target * y[i]!;
    }
  }
  const lambda = explicitCount * training.regParam;
  for (let i = 0; i < k; i++) a[i * k + i]! += lambda;
  const x = training.nonnegative ? nnlsSolve(a, b, k) : choleskySolve(a, b, k);
  return x && Float32Array.from(x);
}
