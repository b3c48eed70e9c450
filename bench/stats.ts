export interface Timing {
  median: number;
  p99: number;
  count: number;
}

/** Median and p99 of a list of milliseconds. */
export function summarize(ms: number[]): Timing {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p99: at(0.99), count: sorted.length };
}

/** The median of a list (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function fmt(n: number, digits = 2): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A run's VM steal for a table: the percentage, or n/a where it was not measured. */
export function fmtSteal(steal: number | undefined): string {
  return steal === undefined ? 'n/a' : fmt(steal, 1);
}
