import { createRequire } from 'node:module';

/**
 * The native addon (native/*.c, built by npm install): the scans, one pass over the matrix with dot
 * products and top-k fused, and the whole-matrix checks a bundle load runs.
 */
export interface NativeAddon {
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
  /** Index of the first infinity or NaN, or -1. */
  firstNonFinite(values: Float32Array): number;
  /** The sum of each item's codes, from column-major [rank, numItems] int8 codes. */
  codeSums(codes: Int8Array, rank: number): Int32Array;
}

export interface NativeResult {
  rows: Int32Array;
  scores: Float32Array;
}

/** Where node-gyp puts the addon: one level up from src/ and dist/. */
const ADDON = '../build/Release/recserve_kernel.node';

let cached: NativeAddon | null | undefined;

/** The addon if it was built (npm install runs node-gyp; a machine without a compiler goes without it). */
export function loadNative(): NativeAddon | null {
  if (cached === undefined) {
    try {
      cached = createRequire(import.meta.url)(ADDON) as NativeAddon;
    } catch {
      cached = null;
    }
  }
  return cached;
}

