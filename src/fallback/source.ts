import type { ScoredItemId } from '../shared.js';

export type FallbackKind = 'redis' | 'cassandra' | 'static';

export interface CachedList {
  variant: string;
  userId: string;
  items: readonly ScoredItemId[];
}

/**
 * Precomputed recommendations for (variant, user). `lookup` resolves null on a miss; a corrupt
 * payload is a miss too (counted by the caller through `onCorrupt`), never an error to the client.
 */
export interface FallbackSource {
  readonly kind: FallbackKind;
  readonly name: string;
  /** Answers from memory, at no cost in time: tried even when the request's deadline has run out. */
  readonly inMemory: boolean;
  lookup(variant: string, userId: string, n: number): Promise<ScoredItemId[] | null>;
  /** Connection state for /healthz. */
  state(): string;
  close(): Promise<void>;
}

/** A source that can also be written: by `load-recs` in bulk and by write-behind. */
export interface WritableSource extends FallbackSource {
  write(lists: readonly CachedList[], ttlSeconds?: number): Promise<void>;
}

export function isWritable(source: FallbackSource): source is WritableSource {
  return typeof (source as WritableSource).write === 'function';
}
