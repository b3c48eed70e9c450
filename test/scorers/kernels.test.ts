import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectTopK } from '../../src/scorers/select-top-k.js';
import { topN } from '../../src/scorers/index.js';
import { scorerWith } from '../helpers/scorer.js';
import { snapshotOf } from '../helpers/snapshots.js';

function sortedReference(scores: Float32Array, k: number): number[] {
  return Array.from(scores.keys())
    .sort((a, b) => scores[b]! - scores[a]! || a - b)
    .slice(0, k);
}

/** A small in-memory snapshot; rows are item ids 100, 101, ... */
const snapshot = (itemFactors: number[][], userFactors: number[][]) =>
  snapshotOf(Float32Array.from(itemFactors.flat()), Float32Array.from(userFactors.flat()), itemFactors[0]!.length, 100);

describe('selectTopK', () => {
  it('matches a full sort (score desc, row asc) on random scores with many ties', () => {
    for (let trial = 0; trial < 50; trial++) {
      const scores = Float32Array.from({ length: 1 + Math.floor(Math.random() * 500) }, () => Math.floor(Math.random() * 20) / 4);
      for (const k of [1, 5, 10, scores.length, scores.length + 3]) {
        assert.deepEqual(selectTopK(scores, k).rows, sortedReference(scores, k));
      }
    }
  });
});

describe('kernels agree on exact top-n, ties by item id, and exclusions', () => {
  // Items 1, 3 and 4 tie exactly for the top score; 0 is last.
  const model = snapshot([[0, 0], [2, 1], [1, 0.5], [2, 1], [2, 1], [1.5, 0]], [[1, 0], [0, 0]]);
  // native-int8 quantises this float32 model itself: its first pass must still give exact ties and order.
  for (const name of ['native-float32', 'native-int8', 'onnx-float32', 'js'] as const) {
    it(name, async () => {
      const kernel = scorerWith([name]);
      try {
        const rows = async (userRow: number, n: number, exclude: number[] = []) => (await topN(kernel, model, userRow, n, new Set(exclude))).map((s) => s.row);
        assert.deepEqual(await rows(0, 6), [1, 3, 4, 5, 2, 0]);
        assert.deepEqual(await rows(0, 2), [1, 3]);
        assert.deepEqual(await rows(0, 3, [3]), [1, 4, 5]);
        assert.deepEqual(await rows(0, 10, [0, 1, 2, 3, 4, 5]), []);
        // Exclusions that leave exactly n rows, and fewer than n.
        assert.deepEqual(await rows(0, 2, [1, 3, 4, 5]), [2, 0]);
        assert.deepEqual(await rows(0, 3, [1, 3, 4, 5]), [2, 0]);
        // A zero user ties every item at 0: ids ascending.
        assert.deepEqual(await rows(1, 3), [0, 1, 2]);
        const scored = await topN(kernel, model, 0, 1, new Set());
        assert.equal(scored[0]!.score, 2);
      } finally {
        await kernel.close();
      }
    });
  }
});

describe('exact kernels with continuous batching', () => {
  for (const name of ['native-float32', 'native-int8', 'onnx-float32'] as const) {
    it(`${name}: concurrent requests share runs and get the same answers as one at a time`, async () => {
      let seed = 3;
      const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
      const items = Array.from({ length: 300 }, () => Array.from({ length: 8 }, rand));
      // Two identical items tie exactly.
      items[17] = [...items[5]!];
      const users = Array.from({ length: 40 }, () => Array.from({ length: 8 }, rand));
      const model = snapshot(items, users);
      const single = scorerWith([name]);
      const batched = scorerWith([name], { batching: true });
      try {
        const requests = users.map((_, u) => ({ u, n: 1 + (u % 12), exclude: new Set(u % 3 === 0 ? [5, 17, u] : []) }));
        const expected: Awaited<ReturnType<typeof topN>>[] = [];
        for (const r of requests) expected.push(await topN(single, model, r.u, r.n, r.exclude));
        const together = await Promise.all(requests.map((r) => topN(batched, model, r.u, r.n, r.exclude)));
        // A batch may sum in another order than a single-user run: scores agree to float32 rounding.
        assert.deepEqual(together.map((list) => list.map((s) => s.row)), expected.map((list) => list.map((s) => s.row)));
        together.forEach((list, i) => list.forEach((s, j) => assert.ok(Math.abs(s.score - expected[i]![j]!.score) <= 1e-6 * Math.max(1, Math.abs(s.score)))));
        assert.equal(batched.stats.requests, requests.length);
        assert.equal(batched.stats.kernels[name], batched.stats.runs);
        assert.ok(batched.stats.runs < requests.length / 4, `${batched.stats.runs} runs for ${requests.length} concurrent requests`);
      } finally {
        await single.close();
        await batched.close();
      }
    });
  }
});
