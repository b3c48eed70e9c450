import murmurhash from 'murmurhash';
import { sparkHash } from './spark-murmur3.js';

import { HASH_MODES, type HashMode } from '../shared.js';

/** The two named hash modes. Each is reproducible outside recserve (Python mmh3, Spark SQL). */
export { HASH_MODES, type HashMode };

const utf8 = new TextEncoder();

/** The bytes hashed for a user: UTF-8 of `salt:userId`. */
export function bucketKey(salt: string, userId: string): Uint8Array {
  return utf8.encode(`${salt}:${userId}`);
}

/**
 * murmur3: MurmurHash3 x86 32-bit, seed 0, unsigned, modulo buckets.
 * spark: Spark SQL's hash() (seed 42, signed), then pmod, i.e. a non-negative remainder.
 */
export function bucketOf(salt: string, userId: string, buckets: number, mode: HashMode): number {
  const key = bucketKey(salt, userId);
  if (mode === 'murmur3') return murmurhash.v3(key, 0) % buckets;
  return ((sparkHash(key) % buckets) + buckets) % buckets;
}

/**
 * Exclusive upper bucket of each variant: variant i owns [bounds[i-1], bounds[i]), with
 * bounds[i] = floor(W_i * buckets / W) for cumulative weights W_i of total W.
 */
export function variantBounds(weights: readonly number[], buckets: number): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  let cumulative = 0;
  return weights.map((w) => {
    cumulative += w;
    return Math.floor((cumulative * buckets) / total);
  });
}

/** Index of the variant that owns `bucket`. */
export function variantIndex(bucket: number, bounds: readonly number[]): number {
  for (let i = 0; i < bounds.length; i++) if (bucket < bounds[i]!) return i;
  return bounds.length - 1;
}
