import { createRequire } from 'node:module';

/** The native scans (native/*.c): one pass over the matrix, dot products and top-k fused. */
export interface NativeTopK {
  /**
   * Top-k rows of `items` (row-major, `rank` wide) for each user in `users` (row-major too), best first,
   * exact ties by row ascending; `users.length / rank` lists of min(k, rows) in `rows` and `scores`.
   */
  topK(items: Float32Array, rank: number, users: Float32Array, k: number, threads: number): NativeResult;
  /**
   * Top-k rows for each user from int8 item codes (see model-store/quantize.ts): the best `candidates` by
   * the integer dot product of its `userCodes` with every item's codes, re-scored exactly against `items`.
   * Users are row-major in `userCodes` and `users` alike; up to 4 share one pass over the codes.
   */
  topKInt8(
    codes: Int8Array,
    offsets: Int32Array,
    scales: Float32Array,
    items: Float32Array,
    rank: number,
    userCodes: Uint8Array,
    users: Float32Array,
    k: number,
    candidates: number,
    threads: number,
  ): NativeResult;
}

export interface NativeResult {
  rows: Int32Array;
  scores: Float32Array;
}

/** Where node-gyp puts the addon: the same two levels up from src/scorers and dist/scorers. */
const ADDON = '../../build/Release/recserve_kernel.node';

let cached: NativeTopK | null | undefined;

/** The addon if it was built (npm install runs node-gyp; a machine without a compiler goes without it). */
export function loadNativeTopK(): NativeTopK | null {
  if (cached === undefined) {
    try {
      cached = createRequire(import.meta.url)(ADDON) as NativeTopK;
    } catch {
      cached = null;
    }
  }
  return cached;
}

/**
 * Below this rank the per-row horizontal sums cost more than onnxruntime's GEMV (measured: rank 15 slower,
 * rank 64 about 1.9x faster), so the native scan is used from here up.
 */
export const NATIVE_MIN_RANK = 32;
