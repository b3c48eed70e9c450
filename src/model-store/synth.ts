import type { FactorModel, FactorTable } from './factors.js';

export interface SynthOptions {
  users: number;
  items: number;
  rank: number;
  seed: number;
  onProgress?: (rowsDone: number) => void;
}

/** mulberry32: a small, fast, seedable generator; the same seed gives the same model everywhere. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function table(rows: number, rank: number, next: () => number, scale: number, done: number, onProgress?: (n: number) => void): FactorTable {
  const ids = new Int32Array(rows);
  const factors = new Float32Array(rows * rank);
  for (let row = 0; row < rows; row++) {
    ids[row] = row;
    for (let k = 0; k < rank; k++) {
      // Box-Muller: normal factors, like a trained model's, scaled so scores stay near 1.
      const u = 1 - next();
      factors[row * rank + k] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next()) * scale;
    }
    if (onProgress && (row & 0xffff) === 0xffff) onProgress(done + row + 1);
  }
  return { ids, factors };
}

/** A seeded synthetic model with user ids 0..users-1 and item ids 0..items-1 (no third-party data). */
export function synthModel({ users, items, rank, seed, onProgress }: SynthOptions): FactorModel {
  const next = mulberry32(seed);
  const scale = 1 / Math.sqrt(Math.sqrt(rank));
  const userTable = table(users, rank, next, scale, 0, onProgress);
  const itemTable = table(items, rank, next, scale, users, onProgress);
  onProgress?.(users + items);
  return { rank, users: userTable, items: itemTable };
}
