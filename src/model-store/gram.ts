import { inRowSlices } from './row-slices.js';

/** Rows per slice: the event loop turns between slices, so a large model's Gram matrix never blocks it for long. */
const SLICE_ROWS = 8192;

/**
 * YᵀY of a row-major factor matrix (`rank` wide), full and in double precision, as Spark's computeYtY
 * sums it: what folding in a user of an implicit-feedback model starts from. Computed once per model at
 * load, in slices that yield to the event loop.
 */
export async function gramMatrix(factors: Float32Array, rank: number): Promise<Float64Array> {
  const k = rank;
  const upper = new Float64Array(k * k);
  const rows = factors.length / k;
  const y = new Float64Array(k);
  await inRowSlices(rows, SLICE_ROWS, (first, end) => {
    for (let r = first; r < end; r++) {
      for (let i = 0; i < k; i++) y[i] = factors[r * k + i]!;
      for (let i = 0; i < k; i++) {
        const yi = y[i]!;
        for (let j = i; j < k; j++) upper[i * k + j]! += yi * y[j]!;
      }
    }
  });
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) upper[i * k + j] = upper[j * k + i]!;
  return upper;
}
