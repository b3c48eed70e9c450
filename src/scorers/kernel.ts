import type { ModelSnapshot } from '../model-store/snapshot.js';

export const KERNEL_NAMES = ['onnx', 'js'] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];

/** The best `k` item rows for one user, best first; exact ties by row ascending (rows are sorted by item id). */
export interface TopK {
  rows: ArrayLike<number>;
  scores: ArrayLike<number>;
}

/** A way to compute exact top-k dot products of one user row against every item row. */
export interface ScoringKernel {
  readonly name: string;
  topK(model: ModelSnapshot, userRow: number, k: number): Promise<TopK>;
  close(): Promise<void>;
}

export function userVector(model: ModelSnapshot, userRow: number): Float32Array {
  return model.userFactors.subarray(userRow * model.rank, (userRow + 1) * model.rank);
}
