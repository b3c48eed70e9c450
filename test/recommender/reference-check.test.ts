import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkBatch, type ReferenceItems, type ServedBatch } from '../helpers/reference-topn.js';

// The brute-force check used on the Spark fixtures must itself catch wrong answers.
const items: ReferenceItems = {
  rank: 2,
  ids: Int32Array.from([30, 10, 20, 40]),
  factors: Float32Array.from([3, 0, 1, 0, 2, 0, 0, 1]),
};

function batch(itemIds: number[], scores: number[]): ServedBatch {
  return { n: 2, userIds: Int32Array.of(1), userFactors: Float32Array.of(1, 0), counts: Int32Array.of(itemIds.length), itemIds: Int32Array.from(itemIds), scores: Float32Array.from(scores) };
}

describe('reference top-N check', () => {
  it('accepts the right answer', () => {
    assert.deepEqual(checkBatch(items, batch([30, 20], [3, 2])).failures, []);
  });
  it('rejects a missed item, a wrong score, a wrong order and a short list', () => {
    assert.match(checkBatch(items, batch([30, 10], [3, 1])).failures[0]!, /below the reference cutoff|beats the cutoff/);
    assert.match(checkBatch(items, batch([30, 20], [3, 2.5])).failures[0]!, /scored 2.5/);
    assert.match(checkBatch(items, batch([20, 30], [2, 3])).failures[0]!, /not sorted/);
    assert.match(checkBatch(items, batch([30], [3])).failures[0]!, /served 1 items, expected 2/);
  });
  it('treats exact ties as interchangeable but wants them in id order', () => {
    const tied: ReferenceItems = { rank: 1, ids: Int32Array.from([7, 5, 9]), factors: Float32Array.from([1, 1, 1]) };
    const served = (ids: number[]) => ({ ...batch(ids, [1, 1]), userFactors: Float32Array.of(1) });
    assert.deepEqual(checkBatch(tied, served([5, 7])).failures, []);
    assert.deepEqual(checkBatch(tied, served([5, 9])).failures, []);
    assert.match(checkBatch(tied, served([7, 5])).failures[0]!, /not sorted/);
  });
});
