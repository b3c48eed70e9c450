import type { ModelSnapshot } from '../model-store/snapshot.js';

import { FLOAT32_KERNELS, KERNEL_NAMES, type KernelName } from '../shared.js';

// Every way recserve can scan a model (the scorer measures those a model accepts and serves with the
// fastest); the float32 ones accept every model, so a configuration needs one. Named in the leaf module.
export { FLOAT32_KERNELS, KERNEL_NAMES, type KernelName };

/** The best `k` item rows for one user, best first; exact ties by row ascending (rows are sorted by item id). */
export interface TopK {
  rows: ArrayLike<number>;
  scores: ArrayLike<number>;
}

/** Rows the users of a batch must not get: user b's are rows[offsets[b] .. offsets[b + 1]), ascending. */
export interface Exclusions {
  rows: Int32Array;
  offsets: Int32Array;
}

/**
 * One way to compute the top-k items of a batch of users: exact float32 dot products, or an int8
 * pre-selection re-scored exactly in float32 (so returned scores are always the model's own).
 */
export interface ScoringKernel {
  readonly name: KernelName;
  /**
   * Whether it scans off the JavaScript thread. The native kernels do; onnxruntime-node runs a session
   * on the JavaScript thread (inside a setImmediate), and so does the TypeScript baseline.
   */
  readonly offEventLoop: boolean;
  /** Whether it can scan this model: onnx-int8 needs the bundle's item codes (native-int8 makes its own). */
  accepts(model: ModelSnapshot): boolean;
  /** Builds what it needs for this model (sessions, tensors) ahead of its first request. */
  prepare(model: ModelSnapshot): Promise<void>;
  /**
   * Whether topK leaves out `exclusions` itself, so the scorer asks it for k rows; the others are asked for
   * k plus the exclusions, which the scorer then filters out.
   */
  readonly excludesRows?: boolean;
  /**
   * The best `k` rows for each user of `users` (row-major, `model.rank` wide), one list per user. A
   * `background` scan (batch lines, beside the scorer's main one) may run at a lower priority.
   */
  topK(model: ModelSnapshot, users: Float32Array, k: number, exclusions?: Exclusions, background?: boolean): Promise<TopK[]>;
  close(): Promise<void>;
}

export function userVector(model: ModelSnapshot, userRow: number): Float32Array {
  return model.userFactors.subarray(userRow * model.rank, (userRow + 1) * model.rank);
}

/** One list per user out of a batch's `rows`/`scores`, `k` entries each. */
export function splitLists(rows: Int32Array, scores: Float32Array, users: number, k: number): TopK[] {
  return Array.from({ length: users }, (_, i) => ({ rows: rows.subarray(i * k, (i + 1) * k), scores: scores.subarray(i * k, (i + 1) * k) }));
}

/** Each user's vector of a row-major batch. */
export function eachUser(users: Float32Array, rank: number): Float32Array[] {
  return Array.from({ length: users.length / rank }, (_, i) => users.subarray(i * rank, (i + 1) * rank));
}
