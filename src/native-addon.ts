import { createRequire } from 'node:module';

/**
 * The native addon (native/*.c, built by npm install): the scans, one pass over the matrix with dot
 * products and top-k fused, and the whole-matrix checks a bundle load runs. The scans run off the
 * JavaScript thread (async work on libuv's threads, their slices on the addon's own scoring threads,
 * started once) and return promises; bad arguments throw at once.
 */
export interface NativeAddon {
  /**
   * Top-k rows of `items` (row-major, `rank` wide) for each user in `users` (row-major too), best first,
   * exact ties by row ascending; `users.length / rank` lists of min(k, rows) in `rows` and `scores`. With
   * `excluded`, user b never gets rows excluded[offsets[b] .. offsets[b + 1]) (ascending, leaving k rows).
   * A `background` scan runs on a thread of its own in the idle scheduling class (see NativeKernel), and
   * no libuv thread waits for it.
   */
  topK(items: Float32Array, rank: number, users: Float32Array, k: number, threads: number, excluded?: Int32Array, offsets?: Int32Array, background?: boolean): Promise<NativeResult>;
  /**
   * The int8 scan's copy of a model (native/int8.c): 16-item tiles of int8 codes, and per item the offsets,
   * scales and error bounds that make its first pass provable. From a bundle's own `codes` (column-major
   * [rank, numItems]) and `scales`, or without them each row quantised here on max|y| / 127. Built off
   * the event loop, over `threads` (about 230 ms per 1,000,000 x 64 on 2). The items are laid out by descending norm (`rows`).
   */
  int8Layout(items: Float32Array, rank: number, threads: number, codes?: Int8Array, scales?: Float32Array): Promise<Int8Layout>;
  /**
   * The same answer as `topK`, exclusions included (products summed in double, ties by row), through an
   * int8 first pass over `layout` that keeps only the items its error bounds cannot rule out. Each user is
   * quantised to 7-bit codes off the event loop; up to 64 users (32 with AMX over ranks up to 64) share one pass over the codes, and up to eight passes each read of a chunk of them.
   */
  topKInt8(layout: Int8Layout, items: Float32Array, rank: number, users: Float32Array, k: number, threads: number, excluded?: Int32Array, offsets?: Int32Array, background?: boolean): Promise<NativeResult>;
  /** An explicit fold-in with fewer ratings than the rank, as scorers/fold-in.ts's FewRatings computes it: false when singular. */
  fewRatings(items: Float32Array, rank: number, rows: Int32Array, ratings: Float64Array, lambda: number, x: Float64Array): boolean;
  /** The normal equations of a fold-in, as scorers/fold-in.ts's NormalEquations computes them. */
  normalEquations(items: Float32Array, rank: number, rows: Int32Array, weights: Float64Array, targets: Float64Array, lambda: number, a: Float64Array, b: Float64Array): void;
  /** x with A x = b (A k x k, row-major) by Cholesky, as scorers/least-squares.ts computes it: false when A is not positive definite. */
  choleskySolve(a: Float64Array, b: Float64Array, k: number, x: Float64Array): boolean;
  /** x >= 0 minimising ½ xᵀ A x − bᵀ x, as scorers/least-squares.ts's nnlsSolve computes it: false when a sub-system is not positive definite. */
  nnlsSolve(a: Float64Array, b: Float64Array, k: number, x: Float64Array): boolean;
  /**
   * What JSON.stringify writes for [{itemId: String(ids[rows[i]]), score: scores[i]}, ...]: the scores'
   * shortest round-trip digits laid out by Number::toString's rules (native/items_json.cc).
   */
  itemsJson(rows: Int32Array, scores: Float32Array, ids: Int32Array): string;
  /** Index of the first infinity or NaN, or -1. */
  firstNonFinite(values: Float32Array): number;
  /** The sum of each item's codes, from column-major [rank, numItems] int8 codes. */
  codeSums(codes: Int8Array, rank: number): Int32Array;
  /** The instruction set each scan uses in this process: amx (int8 only), avx512, avx2 or portable (RECSERVE_NATIVE_ISA lowers it). */
  isa(): { float32: NativeIsa; int8: NativeIsa };
  /** Scoring threads started so far: they are started once and kept. */
  poolThreads(): number;
  /**
   * The whole file mapped read-only and shared (the OS page cache's pages, none on the JavaScript heap),
   * advised for random access, unmapped when the buffer is collected; throws with the path and the reason.
   */
  mapFile(path: string): Buffer;
}

export interface Int8Layout {
  /** The items it was built for: a scan checks that its matrix has as many. */
  numItems: number;
  tiles: Int8Array;
  offsets: Int32Array;
  scales: Float32Array;
  bounds: Float32Array;
  /** The model's row at each place of the layout: the items by descending norm, so that the scan meets the ones most users rank high first (-1 past them). */
  rows: Int32Array;
}

export type NativeIsa = 'amx' | 'avx512' | 'avx2' | 'portable';

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
