/** Factor matrices in memory, rows in the same order as their ids. */
export interface FactorTable {
  ids: Int32Array;
  /** Row-major, ids.length x rank. */
  factors: Float32Array;
}

export interface FactorModel {
  rank: number;
  users: FactorTable;
  items: FactorTable;
}

/** The row order that sorts `ids` ascending; ties keep their original order. */
export function idOrder(ids: Int32Array): Uint32Array {
  const order = new Uint32Array(ids.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => ids[a]! - ids[b]! || a - b);
}

/** The table with its rows permuted into `order`. */
export function permuteRows(table: FactorTable, order: Uint32Array, rank: number): FactorTable {
  const ids = new Int32Array(order.length);
  const factors = new Float32Array(order.length * rank);
  for (let i = 0; i < order.length; i++) {
    const from = order[i]!;
    ids[i] = table.ids[from]!;
    factors.set(table.factors.subarray(from * rank, (from + 1) * rank), i * rank);
  }
  return { ids, factors };
}

/** Index of the first non-finite value, or -1. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // v - v is NaN for both NaN and ±Infinity; cheaper than Number.isFinite in this loop.
    if (v - v !== 0) return i;
  }
  return -1;
}

/** Index of the first id not strictly greater than its predecessor, or -1. */
export function firstUnsorted(ids: Int32Array): number {
  for (let i = 1; i < ids.length; i++) if (ids[i]! <= ids[i - 1]!) return i;
  return -1;
}

/** Row of `id` in ids sorted ascending, or -1. */
export function findRow(ids: Int32Array, id: number): number {
  let lo = 0;
  let hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = ids[mid]!;
    if (v < id) lo = mid + 1;
    else if (v > id) hi = mid - 1;
    else return mid;
  }
  return -1;
}

const INT32_ID = /^-?\d{1,10}$/;

/** The int32 an external id string names, or null when it names none (so no row can match). */
export function parseInt32Id(text: string): number | null {
  if (!INT32_ID.test(text)) return null;
  const n = Number(text);
  if (n < -2147483648 || n > 2147483647 || (n === 0 && text.startsWith('-'))) return null;
  return n;
}

/** Row of an external id string in ids sorted ascending, or -1 (also for strings that name no int32). */
export function rowOfId(ids: Int32Array, text: string): number {
  const id = parseInt32Id(text);
  return id === null ? -1 : findRow(ids, id);
}
