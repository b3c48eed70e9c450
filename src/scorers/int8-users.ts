import { quantizeUser } from '../model-store/quantize.js';

/** A batch of user vectors (row-major) as 7-bit codes, each user quantised on its own scale. */
export function quantizeUsers(users: Float32Array, rank: number): Uint8Array {
  const codes = new Uint8Array(users.length);
  for (let at = 0; at < users.length; at += rank) quantizeUser(users.subarray(at, at + rank), codes.subarray(at, at + rank));
  return codes;
}
