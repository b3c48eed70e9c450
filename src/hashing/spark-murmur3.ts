/**
 * Spark SQL's `hash()` on a string: Murmur3_x86_32.hashUnsafeBytes with seed 42. Unlike standard
 * MurmurHash3, each tail byte (length mod 4) is sign-extended and mixed as a whole block. No
 * published package reproduces that quirk, so it is written out here, step for step as in Spark.
 */
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
export const SPARK_HASH_SEED = 42;

function mixK1(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixH1(h: number, k: number): number {
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Signed 32-bit, as Spark returns it. */
export function sparkHash(bytes: Uint8Array, seed = SPARK_HASH_SEED): number {
  const aligned = bytes.length - (bytes.length % 4);
  let h = seed | 0;
  for (let i = 0; i < aligned; i += 4) {
    h = mixH1(h, mixK1(bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)));
  }
  for (let i = aligned; i < bytes.length; i++) {
    h = mixH1(h, mixK1((bytes[i]! << 24) >> 24));
  }
  return fmix(h, bytes.length);
}
