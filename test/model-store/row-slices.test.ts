import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cosineView } from '../../src/model-store/cosine-view.js';
import { gramMatrix } from '../../src/model-store/gram.js';
import { snapshotOf } from '../helpers/snapshots.js';

/** Rows spanning several slices (8,192 rows a slice for YᵀY, 16,384 for the unit view), seeded. */
const rows = 40_000;
const rank = 5;
const factors = Float32Array.from({ length: rows * rank }, (_, i) => Math.sin(i * 12.9898) * 2);

describe('whole-matrix work at load, in slices', () => {
  it('YᵀY over several slices equals the sum over every row', async () => {
    const gram = await gramMatrix(factors, rank);
    for (let i = 0; i < rank; i++) {
      for (let j = 0; j < rank; j++) {
        let want = 0;
        for (let r = 0; r < rows; r++) want += factors[r * rank + i]! * factors[r * rank + j]!;
        assert.ok(Math.abs(gram[i * rank + j]! - want) <= 1e-9 * Math.abs(want), `(${i}, ${j})`);
      }
    }
  });

  it('the unit-length view normalises every row, past the first slice too', async () => {
    const view = await cosineView(snapshotOf(factors, new Float32Array(rank), rank));
    for (const row of [0, 16_383, 16_384, 39_999]) {
      const norm = Math.hypot(...view.itemFactors.subarray(row * rank, (row + 1) * rank));
      assert.ok(Math.abs(norm - 1) < 1e-6, `row ${row}: ${norm}`);
    }
    assert.equal(view.userFactors, view.itemFactors);
  });
});
