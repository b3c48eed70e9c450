// Cases for the native scans against plain-TypeScript references, shared by the in-process tests and by
// `native-cases-cli.ts`, which runs them in a child process under another instruction set
// (RECSERVE_NATIVE_ISA is read once per process).
import { quantizeItems } from '../../src/model-store/quantize.js';
import type { NativeAddon } from '../../src/native-addon.js';
import { selectTopK } from '../../src/scorers/select-top-k.js';

/** A fixed pseudo-random sequence in [0, 1), so every process checks the same cases. */
export function randomSource(seed: number): () => number {
  return () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Small integers: every dot product is exact in float32 whatever the order of additions, so ties are exact too. */
export const smallInts = (rand: () => number, n: number, spread = 7) => Float32Array.from({ length: n }, () => Math.floor(rand() * spread) - (spread >> 1));

/** float64 dot products (exact for small integers), selected with the kernels' tie rule. */
export function referenceFloat32(items: Float32Array, rank: number, user: Float32Array, k: number) {
  const scores = new Float32Array(items.length / rank);
  for (let i = 0; i < scores.length; i++) {
    let s = 0;
    for (let j = 0; j < rank; j++) s += user[j]! * items[i * rank + j]!;
    scores[i] = s;
  }
  return selectTopK(scores, k);
}

/** The native int8 scan for a batch of users (row-major), split into one answer per user; with `bundleCodes`, through a bundle's own codes. */
async function int8Call(addon: NativeAddon, items: Float32Array, rank: number, users: Float32Array, k: number, threads: number, bundleCodes = false) {
  const numItems = items.length / rank;
  const bundle = bundleCodes ? quantizeItems(items, numItems, rank) : null;
  const layout = await (bundle ? addon.int8Layout(items, rank, threads, bundle.codes, bundle.scales) : addon.int8Layout(items, rank, threads));
  const { rows, scores } = await addon.topKInt8(layout, items, rank, users, k, threads);
  const kk = Math.min(k, numItems);
  return Array.from({ length: users.length / rank }, (_, b) => ({ rows: rows.subarray(b * kk, (b + 1) * kk), scores: scores.subarray(b * kk, (b + 1) * kk) }));
}

/** The failures of one int8 call for a batch of users, each against the exact answer (float64 sums, the kernels' tie rule). */
async function int8Differences(addon: NativeAddon, items: Float32Array, rank: number, users: Float32Array, k: number, threads: number, label: string, bundleCodes = false) {
  return (await int8Call(addon, items, rank, users, k, threads, bundleCodes))
    .map((got, b) => (differs(got, referenceFloat32(items, rank, users.subarray(b * rank, (b + 1) * rank), k)) ? `${label}, user ${b}` : ''))
    .filter(Boolean);
}

function differs(got: { rows: ArrayLike<number>; scores: ArrayLike<number> }, expected: { rows: ArrayLike<number>; scores: ArrayLike<number> }): boolean {
  return JSON.stringify([Array.from(got.rows), Array.from(got.scores)]) !== JSON.stringify([Array.from(expected.rows), Array.from(expected.scores)]);
}

/**
 * Item sets the int8 first pass must not get wrong: exact ties (small integers), real values with item norms
 * spread over 2^-4 .. 2^4, and near-duplicates 1e-4 apart scored by users with one dominant value (coarse codes).
 */
const INT8_ITEM_KINDS = {
  ties: (rand: () => number, rows: number, rank: number) => smallInts(rand, rows * rank, rank < 4 ? 3 : 7),
  reals: (rand: () => number, rows: number, rank: number) =>
    Float32Array.from({ length: rows * rank }, (_, i) => (rand() * 2 - 1) * 2 ** ((Math.floor(i / rank) % 9) - 4)),
  near: (rand: () => number, rows: number, rank: number) =>
    Float32Array.from({ length: rows * rank }, (_, i) => (Math.floor(i / rank) % 3) + (i % 2) + (rand() - 0.5) * 1e-4),
};

/**
 * Exactness of the int8 scan: ranks around every group of four, item counts around the 16-item tile, k past
 * the end, batches of 1, 8 (one group of AVX-512's 8 users) and 9, and 17 (past AMX's 16 users a multiply),
 * the scan's own codes and a bundle's.
 */
export async function int8Failures(addon: NativeAddon): Promise<string[]> {
  const rand = randomSource(21);
  const failures: string[] = [];
  for (const [kind, make] of Object.entries(INT8_ITEM_KINDS)) {
    for (const rank of [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 33, 64]) {
      for (const rows of [1, 15, 16, 17, 130, 1000]) {
        const items = make(rand, rows, rank);
        for (const batch of [1, 8, 9, 17]) {
          const users = kind === 'ties' ? smallInts(rand, batch * rank) : Float32Array.from({ length: batch * rank }, () => rand() * 2 - 1);
          if (kind === 'near') for (let b = 0; b < batch; b++) users[b * rank + (b % rank)] = 50;
          for (const k of [1, 10, rows + 3]) {
            const label = `int8 ${kind} rank ${rank}, ${rows} rows, ${batch} users, k ${k}`;
            failures.push(...(await int8Differences(addon, items, rank, users, k, 1 + (k % 2), label, k === 10)));
          }
        }
      }
    }
  }
  return failures;
}

/** 70,000 x 64 is past the size from which the int8 scan starts threads; the slices share each user's floor. */
export async function int8ThreadFailures(addon: NativeAddon): Promise<string[]> {
  const rand = randomSource(22);
  const rank = 64;
  const items = Float32Array.from({ length: 70_000 * rank }, () => rand() - 0.5);
  const users = Float32Array.from({ length: 9 * rank }, () => rand() - 0.5);
  const failures: string[] = [];
  for (const threads of [1, 2, 3, 8]) failures.push(...(await int8Differences(addon, items, rank, users, 25, threads, `int8 70,000 x 64, ${threads} threads`)));
  return failures;
}

/** The float32 scan: exact equality with float64 references on small integers, batches of 3 users. */
export async function float32Failures(addon: NativeAddon): Promise<string[]> {
  const rand = randomSource(5);
  const failures: string[] = [];
  for (const rank of [1, 3, 7, 8, 9, 15, 16, 17, 31, 37, 64, 100]) {
    for (const rows of [1, 3, 5, 1001]) {
      const items = smallInts(rand, rows * rank);
      const users = smallInts(rand, 3 * rank);
      for (const k of [1, 10, rows + 5]) {
        for (const threads of [1, 2, 3]) {
          const got = await addon.topK(items, rank, users, k, threads);
          const kk = Math.min(k, rows);
          for (let b = 0; b < 3; b++) {
            const expected = referenceFloat32(items, rank, users.subarray(b * rank, (b + 1) * rank), k);
            const mine = { rows: got.rows.subarray(b * kk, (b + 1) * kk), scores: got.scores.subarray(b * kk, (b + 1) * kk) };
            if (differs(mine, expected)) failures.push(`float32 rank ${rank}, ${rows} rows, k ${k}, ${threads} threads, user ${b}`);
          }
        }
      }
    }
  }
  return failures;
}
