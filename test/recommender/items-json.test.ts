import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadNative } from '../../src/native-addon.js';
import { itemsJsonOf } from '../../src/recommender/items-json.js';
import { answerOfList } from '../../src/recommender/kinds/types.js';
import { randomSource } from '../helpers/native-cases.js';
import { snapshotOf } from '../helpers/snapshots.js';

const native = loadNative();
const rand = randomSource(11);

/** What a batch line held before the addon wrote its items: JSON.stringify of the items' objects. */
const stringified = (rows: Int32Array, scores: Float32Array, ids: Int32Array) => JSON.stringify(Array.from(rows, (row, i) => ({ itemId: String(ids[row]), score: scores[i] })));

/** Scores of any float32 bit pattern: every exponent, subnormals, infinities, NaNs and both zeros. */
function anyFloats(n: number): Float32Array {
  const bits = Uint32Array.from({ length: n }, () => Math.floor(rand() * 2 ** 32));
  return new Float32Array(bits.buffer);
}

describe('items JSON', () => {
  const ids = Int32Array.from([0, -1, 2147483647, -2147483648, 42, 7, 1000000, -99]);

  it('is what JSON.stringify writes, for every kind of float32 score and int32 id', () => {
    assert.ok(native, 'the native addon is built by npm install');
    for (let list = 0; list < 20_000; list++) {
      const k = list % 13;
      const rows = Int32Array.from({ length: k }, () => Math.floor(rand() * ids.length));
      const scores = anyFloats(k);
      assert.equal(native.itemsJson(rows, scores, ids), stringified(rows, scores, ids), `scores ${Array.from(scores)}`);
    }
  });

  it('lays out numbers by Number::toString: plain, with a point, small with zeros, and with exponents', () => {
    const edges = [0, -0, 1, -1, 0.1, 100, 123456, 2 ** 24, 1e-6, 1.5e-7, 1e-7, 9.999999e-8, 1e20, 1e21, 9.9999998e20, 1.2e21, 3.4028234663852886e38, 1.401298464324817e-45, NaN, Infinity, -Infinity];
    const scores = Float32Array.from(edges);
    const rows = new Int32Array(scores.length).fill(4);
    assert.equal(native!.itemsJson(rows, scores, ids), stringified(rows, scores, ids));
    assert.equal(native!.itemsJson(new Int32Array(0), new Float32Array(0), ids), '[]');
    // The layouts, spelled out (as float32 values read back as doubles).
    assert.equal(native!.itemsJson(Int32Array.of(4, 4, 4, 4), Float32Array.of(2 ** 24, 0.5, 2 ** -30, 2 ** 80), ids),
      '[{"itemId":"42","score":16777216},{"itemId":"42","score":0.5},{"itemId":"42","score":9.313225746154785e-10},{"itemId":"42","score":1.2089258196146292e+24}]');
  });

  it('rejects rows outside the ids and scores that do not match the rows', () => {
    assert.throws(() => native!.itemsJson(Int32Array.of(8), Float32Array.of(1), ids), RangeError);
    assert.throws(() => native!.itemsJson(Int32Array.of(-1), Float32Array.of(1), ids), RangeError);
    assert.throws(() => native!.itemsJson(Int32Array.of(1, 2), Float32Array.of(1), ids), RangeError);
    assert.throws(() => native!.itemsJson(Float32Array.of(1) as unknown as Int32Array, Float32Array.of(1), ids), TypeError);
    // A long list goes past the addon's stack buffer.
    const rows = Int32Array.from({ length: 500 }, (_, i) => i % ids.length);
    const scores = anyFloats(500);
    assert.equal(native!.itemsJson(rows, scores, ids), stringified(rows, scores, ids));
  });

  it("is written into a batch line's answer, and only there", () => {
    const model = snapshotOf(new Float32Array(5 * 2), new Float32Array(2), 2, 100);
    const list = { rows: Int32Array.of(3, 0, 4), scores: Float32Array.of(2.5, 0.1, -1 / 3) };
    const answer = answerOfList(list, model, model, true);
    assert.equal(answer.itemsJson, JSON.stringify(answer.items));
    assert.equal(answerOfList(list, model, model).itemsJson, undefined);
    // A kernel's plain arrays are left to JSON.stringify.
    assert.equal(itemsJsonOf({ rows: [3, 0], scores: [1, 2] }, model.itemIds), undefined);
  });
});
