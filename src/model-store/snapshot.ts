import type { Manifest } from './manifest.js';
import type { OnnxSnapshot } from './onnx-bundle.js';
import type { ItemEncoding, QuantizedItems } from './quantize.js';

/**
 * One loaded model update. Immutable: a reload builds a new snapshot, so a request that
 * started on this one finishes on it.
 */
export interface ModelSnapshot {
  readonly kind: 'als';
  readonly name: string;
  /** The feed update id being served. */
  readonly version: string;
  readonly dir: string;
  readonly rank: number;
  readonly numUsers: number;
  readonly numItems: number;
  /** Sorted ascending; row i of the factors belongs to ids[i]. */
  readonly userIds: Int32Array;
  readonly itemIds: Int32Array;
  readonly userFactors: Float32Array;
  readonly itemFactors: Float32Array;
  /** int8 when the bundle carries quantised item codes for a fast first pass (re-scored in float32). */
  readonly itemEncoding: ItemEncoding;
  readonly itemCodes: Readonly<QuantizedItems> | null;
  readonly manifest: Manifest;
  /** YᵀY of the item factors, for folding in users of an implicit-feedback model; null otherwise. */
  readonly itemGram: Float64Array | null;
  readonly loadedAt: Date;
}

export type { OnnxSnapshot };

export type LoadedModel = ModelSnapshot | OnnxSnapshot;
