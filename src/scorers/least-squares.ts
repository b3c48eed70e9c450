// Dense symmetric positive-definite solves in double precision, for the small rank x rank systems of
// fold-in. Matrices are full (not packed), row-major, k x k.
import { loadNative } from '../native-addon.js';

let factorScratch: Float64Array = new Float64Array(0);

/**
 * `current` if it holds `length` doubles, else a larger array to keep in its place: solves reuse their scratch,
 * as they run synchronously on one thread and never nest, and a fresh array per request (32 KB at rank 64,
 * outside V8's heap) cost more to allocate and collect than to fill.
 */
export function scratch(current: Float64Array, length: number): Float64Array {
  return current.length >= length ? current : new Float64Array(Math.max(length, 2 * current.length));
}

/**
 * Σ u[a + p] · v[b + p] over p < n, in double: four partial sums, as one chain of adds would wait on each
 * add, combined as (s0 + s1) + (s2 + s3), the tail into s0 (native/fold.c's dot4 and dot_rows).
 */
export function dot4(u: Float32Array | Float64Array, a: number, v: Float32Array | Float64Array, b: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let p = 0;
  for (; p + 4 <= n; p += 4) {
    s0 += u[a + p]! * v[b + p]!;
    s1 += u[a + p + 1]! * v[b + p + 1]!;
    s2 += u[a + p + 2]! * v[b + p + 2]!;
    s3 += u[a + p + 3]! * v[b + p + 3]!;
  }
  for (; p < n; p++) s0 += u[a + p]! * v[b + p]!;
  return s0 + s1 + (s2 + s3);
}

/** x with A x = b (k x k); null when A is not positive definite. A and b are left as they were. */
export type CholeskySolve = (a: Float64Array, b: Float64Array, k: number) => Float64Array | null;

/** Cholesky (A = L Lᵀ) in TypeScript, for machines without the addon, which computes the same bits (native/fold.c). */
export const choleskySolveInline: CholeskySolve = (a, b, k) => {
  const l = (factorScratch = scratch(factorScratch, k * k));
  for (let j = 0; j < k; j++) {
    const diagonal = a[j * k + j]! - dot4(l, j * k, l, j * k, j);
    if (!(diagonal > 0)) return null;
    const pivot = Math.sqrt(diagonal);
    l[j * k + j] = pivot;
    for (let i = j + 1; i < k; i++) l[i * k + j] = (a[i * k + j]! - dot4(l, i * k, l, j * k, j)) / pivot;
  }
  // L y = b, then Lᵀ x = y.
  const x = Float64Array.from(b);
  for (let i = 0; i < k; i++) {
    for (let p = 0; p < i; p++) x[i]! -= l[i * k + p]! * x[p]!;
    x[i]! /= l[i * k + i]!;
  }
  for (let i = k - 1; i >= 0; i--) {
    for (let p = i + 1; p < k; p++) x[i]! -= l[p * k + i]! * x[p]!;
    x[i]! /= l[i * k + i]!;
  }
  return x;
};

const addon = loadNative();

/** A solve of the addon's, which fills x and says whether it could, as a CholeskySolve or NnlsSolve. */
function intoNew(solve: (a: Float64Array, b: Float64Array, k: number, x: Float64Array) => boolean): CholeskySolve {
  return (a, b, k) => {
    const x = new Float64Array(k);
    return solve(a, b, k, x) ? x : null;
  };
}

/** The addon's Cholesky where it was built: at rank 64, 97 µs of the event loop in TypeScript. */
export const choleskySolve: CholeskySolve = addon ? intoNew(addon.choleskySolve) : choleskySolveInline;

/** The rows and columns `keep` of A, and the entries `keep` of b. */
function restrict(a: Float64Array, b: Float64Array, k: number, keep: readonly number[]): { a: Float64Array; b: Float64Array } {
  const m = keep.length;
  const sub = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) sub[i * m + j] = a[keep[i]! * k + keep[j]!]!;
  return { a: sub, b: Float64Array.from(keep, (i) => b[i]!) };
}

/**
 * The x >= 0 minimising ½ xᵀ A x − bᵀ x for a positive-definite A: the non-negative least squares of
 * Spark's `nonnegative=true`, given its normal equations. Lawson and Hanson's active-set method, run on
 * the normal equations: the minimiser is unique, so any exact method gives Spark's answer. Null when a
 * sub-system is not positive definite.
 */
export function nnlsSolveInline(a: Float64Array, b: Float64Array, k: number): Float64Array | null {
  const x = new Float64Array(k);
  const passive = new Set<number>();
  const scale = Math.max(1, ...Array.from(b, Math.abs));
  const tolerance = 1e-12 * scale;
  const w = new Float64Array(k);
  // The negative gradient b - A x: positive where raising x_j lowers the objective.
  const gradient = () => {
    for (let i = 0; i < k; i++) {
      let sum = b[i]!;
      for (let j = 0; j < k; j++) if (x[j] !== 0) sum -= a[i * k + j]! * x[j]!;
      w[i] = sum;
    }
    return w;
  };
  for (let outer = 0; outer < 3 * k; outer++) {
    const w = gradient();
    let entering = -1;
    for (let j = 0; j < k; j++) if (!passive.has(j) && w[j]! > tolerance && (entering < 0 || w[j]! > w[entering]!)) entering = j;
    if (entering < 0) return x;
    passive.add(entering);
    for (;;) {
      const keep = [...passive].sort((p, q) => p - q);
      const sub = restrict(a, b, k, keep);
      const z = choleskySolveInline(sub.a, sub.b, keep.length);
      if (!z) return null;
      if (z.every((v) => v > 0)) {
        keep.forEach((i, n) => (x[i] = z[n]!));
        break;
      }
      // Step from x towards z as far as feasibility allows; the variables that reach zero leave.
      let step = 1;
      keep.forEach((i, n) => {
        if (z[n]! <= 0) step = Math.min(step, x[i]! / (x[i]! - z[n]!));
      });
      keep.forEach((i, n) => {
        x[i] = x[i]! + step * (z[n]! - x[i]!);
        if (x[i]! <= tolerance * 1e-3) {
          x[i] = 0;
          passive.delete(i);
        }
      });
    }
  }
  return x;
}

/** The x >= 0 minimising ½ xᵀ A x − bᵀ x; null when a sub-system is not positive definite. */
export type NnlsSolve = (a: Float64Array, b: Float64Array, k: number) => Float64Array | null;

/** The addon's NNLS where it was built (the same bits): at rank 64, 1.1-2.1 ms of the event loop in TypeScript. */
export const nnlsSolve: NnlsSolve = addon ? intoNew(addon.nnlsSolve) : nnlsSolveInline;
