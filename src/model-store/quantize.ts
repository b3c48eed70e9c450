/**
 * int8 item codes with one scale per item row, stored column-major ([rank, numItems]) because
 * onnxruntime's MatMulInteger streams a [rank, numItems] int8 matrix fastest for one user.
 *
 * item[i][j] ≈ scales[i] · codes[j·numItems + i], codes in [-127, 127].
 * A user is quantised per request to uint8 with an offset of 128 (the runtime's fast path takes no
 * zero point), so each raw dot product carries 128 · Σⱼ codes[j][i] too: `offsets[i]` holds that
 * amount, precomputed, and is subtracted before scaling.
 */
export interface QuantizedItems {
  codes: Int8Array;
  scales: Float32Array;
  offsets: Int32Array;
}

export const ITEM_ENCODINGS = ['float32', 'int8'] as const;
export type ItemEncoding = (typeof ITEM_ENCODINGS)[number];

/** The uint8 offset users are shifted by; the largest code magnitude is 127, so 128 + code fits a byte. */
export const USER_CODE_OFFSET = 128;

export function quantizeItems(factors: Float32Array, numItems: number, rank: number): QuantizedItems {
  const codes = new Int8Array(numItems * rank);
  const scales = new Float32Array(numItems);
  const offsets = new Int32Array(numItems);
  for (let i = 0, base = 0; i < numItems; i++, base += rank) {
    let max = 0;
    for (let j = 0; j < rank; j++) max = Math.max(max, Math.abs(factors[base + j]!));
    // An all-zero row keeps scale 0 and codes 0: it scores 0, as in float32.
    const scale = max / 127;
    scales[i] = scale;
    if (scale === 0) continue;
    let sum = 0;
    for (let j = 0; j < rank; j++) {
      const code = Math.max(-127, Math.min(127, Math.round(factors[base + j]! / scale)));
      codes[j * numItems + i] = code;
      sum += code;
    }
    offsets[i] = USER_CODE_OFFSET * sum;
  }
  return { codes, scales, offsets };
}

/** A user vector as uint8 codes offset by 128. The user's own scale is dropped: it does not change the order. */
export function quantizeUser(user: Float32Array, out: Uint8Array = new Uint8Array(user.length)): Uint8Array {
  let max = 0;
  for (let j = 0; j < user.length; j++) max = Math.max(max, Math.abs(user[j]!));
  const inverse = max === 0 ? 0 : 127 / max;
  for (let j = 0; j < user.length; j++) out[j] = USER_CODE_OFFSET + Math.round(user[j]! * inverse);
  return out;
}
