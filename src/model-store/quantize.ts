/**
 * int8 item codes with one scale per item row, stored column-major ([rank, numItems]): the layout the
 * scans read a block of items from, one dimension's row at a time, and the one onnxruntime's MatMulInteger
 * takes as its [rank, numItems] operand.
 *
 * item[i][j] ≈ scales[i] · codes[j·numItems + i], codes in [-127, 127].
 * A user is quantised per request to 7-bit codes, 0-127 around a zero point of 64: a pair of products then
 * fits int16 (2 · 127 · 127 = 32,258), so no SIMD path can saturate (AVX2's vpmaddubsw, onnxruntime's
 * u8 x s8 kernels without VNNI) and every path computes the same integers. Each raw dot product carries
 * 64 · Σⱼ codes[j][i] too: `offsets[i]` holds that amount and is subtracted before scaling.
 */
export interface QuantizedItems {
  codes: Int8Array;
  scales: Float32Array;
  /** USER_CODE_ZERO · Σⱼ codes[j][i], per item. */
  offsets: Int32Array;
}

export const ITEM_ENCODINGS = ['float32', 'int8'] as const;
export type ItemEncoding = (typeof ITEM_ENCODINGS)[number];

/** The zero point of 7-bit user codes: a user value of 0 is code 64, ±max is 64 ± 63. */
export const USER_CODE_ZERO = 64;

/**
 * The bundle's item-code-offsets file holds 128 · Σ codes (written for 8-bit user codes, kept so that every
 * bundle stays loadable); the load checks it and derives the scan offsets from the code sums.
 */
export const FILE_OFFSET_FACTOR = 128;

export function scanOffsets(sums: Int32Array): Int32Array {
  return sums.map((s) => USER_CODE_ZERO * s);
}

/** Codes, scales and scan offsets of a factor matrix, and each item's code sum (what the bundle's offsets file is made of). */
export function quantizeItems(factors: Float32Array, numItems: number, rank: number): QuantizedItems & { sums: Int32Array } {
  const codes = new Int8Array(numItems * rank);
  const scales = new Float32Array(numItems);
  const sums = new Int32Array(numItems);
  for (let i = 0, base = 0; i < numItems; i++, base += rank) {
    let max = 0;
    for (let j = 0; j < rank; j++) max = Math.max(max, Math.abs(factors[base + j]!));
    // An all-zero row keeps scale 0 and codes 0: it scores 0, as in float32.
    const scale = max / 127;
    scales[i] = scale;
    if (scale === 0) continue;
    for (let j = 0; j < rank; j++) {
      const code = Math.max(-127, Math.min(127, Math.round(factors[base + j]! / scale)));
      codes[j * numItems + i] = code;
      sums[i]! += code;
    }
  }
  return { codes, scales, offsets: scanOffsets(sums), sums };
}

/** A user vector as 7-bit codes around 64. The user's own scale is dropped: it does not change the order. */
export function quantizeUser(user: Float32Array, out: Uint8Array = new Uint8Array(user.length)): Uint8Array {
  let max = 0;
  for (let j = 0; j < user.length; j++) max = Math.max(max, Math.abs(user[j]!));
  const inverse = max === 0 ? 0 : (USER_CODE_ZERO - 1) / max;
  for (let j = 0; j < user.length; j++) out[j] = USER_CODE_ZERO + Math.round(user[j]! * inverse);
  return out;
}
