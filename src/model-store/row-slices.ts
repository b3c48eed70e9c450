/**
 * Runs `body(first, end)` over rows [0, rows) in slices of `sliceRows`, letting the event loop turn between
 * slices: whole-matrix work at load (YᵀY, a unit-length view) never blocks requests for long.
 */
export async function inRowSlices(rows: number, sliceRows: number, body: (first: number, end: number) => void): Promise<void> {
  for (let first = 0; first < rows; first += sliceRows) {
    if (first > 0) await new Promise((resolve) => setImmediate(resolve));
    body(first, Math.min(rows, first + sliceRows));
  }
}
