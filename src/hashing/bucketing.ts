import murmurhash from 'murmurhash';
import { sparkHash } from './spark-murmur3.js';

import { HASH_MODES, type HashMode } from '../shared.js';

/** The two named hash modes. Each is reproducible outside recserve (Python mmh3, Spark SQL). */
export { HASH_MODES, type HashMode };

const utf8 = new TextEncoder();

/** The text hashed for a user: `salt:userId`. */
function keyText(salt: string, userId: string): string {
  return `${salt}:${userId}`;
}

/** The bytes hashed for a user: UTF-8 of `salt:userId`. */
export function bucketKey(salt: string, userId: string): Uint8Array {
  return utf8.encode(keyText(salt, userId));
}

/** Byte arrays reused by hashedBytes, one per length (the hashes read a key's length from its array). */
const scratch: Uint8Array[] = [];
const LONGEST_SCRATCH = 1024;

/**
 * bucketKey's bytes for hashing at once: an ASCII key (the usual id) is copied into a reused array of its
 * length, which the next key overwrites. TextEncoder.encode took 0.80-0.85 us a key, the copy 0.08, and
 * routing is most of a batch's work before its first scan.
 */
function hashedBytes(salt: string, userId: string): Uint8Array {
  const key = keyText(salt, userId);
  const length = key.length;
  if (length > LONGEST_SCRATCH) return utf8.encode(key);
  const bytes = (scratch[length] ??= new Uint8Array(length));
  for (let i = 0; i < length; i++) {
    const code = key.charCodeAt(i);
    if (code > 0x7f) return utf8.encode(key);
    bytes[i] = code;
  }
  return bytes;
}

/**
 * murmur3: MurmurHash3 x86 32-bit, seed 0, unsigned, modulo buckets.
 * spark: Spark SQL's hash() (seed 42, signed), then pmod, i.e. a non-negative remainder.
 */
export function bucketOf(salt: string, userId: string, buckets: number, mode: HashMode): number {
  const key = hashedBytes(salt, userId);
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
