import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelSnapshot } from '../../src/model-store/snapshot.js';
import { loadNative, type NativeAddon } from '../../src/native-addon.js';
import { OnnxKernel } from '../../src/scorers/onnx-kernel.js';
import { topN } from '../../src/scorers/index.js';
import { float32Failures, randomSource, referenceFloat32, smallInts as smallIntsFrom } from '../helpers/native-cases.js';

const native = loadNative();

const rand = randomSource(5);
const smallInts = (n: number) => smallIntsFrom(rand, n);

describe('native scan', () => {
  it('is built by npm install', () => {
    assert.ok(native, 'build/Release/recserve_kernel.node should exist: npm install runs scripts/build-native.mjs');
  });

  it('matches the reference exactly, ties by row, for ranks around every vector width, odd row counts, k past the end, batches and threads', () => {
    assert.deepEqual(float32Failures(native as NativeAddon), []);
  });

  it('splits large matrices over threads and merges their heaps exactly', () => {
    const addon = native as NativeAddon;
    const rank = 64;
    // 5,003 x 64 is past the size from which the scan starts threads; exact ties abound with small integers.
    const items = smallInts(5003 * rank);
    const users = smallInts(2 * rank);
    for (const threads of [1, 2, 3, 8]) {
      const got = addon.topK(items, rank, users, 25, threads);
      for (let b = 0; b < 2; b++) {
        const expected = referenceFloat32(items, rank, users.subarray(b * rank, (b + 1) * rank), 25);
        assert.deepEqual(Array.from(got.rows.subarray(b * 25, (b + 1) * 25)), Array.from(expected.rows), `${threads} threads, user ${b}`);
      }
    }
  });

  it('agrees with float64 scores to float32 rounding on random factors', () => {
    const addon = native as NativeAddon;
    const rank = 64;
    const items = Float32Array.from({ length: 20_000 * rank }, () => rand() - 0.5);
    const user = Float32Array.from({ length: rank }, () => rand() - 0.5);
    const got = addon.topK(items, rank, user, 50, 2);
    const expected = referenceFloat32(items, rank, user, 50);
    got.scores.forEach((s, i) => assert.ok(Math.abs(s - expected.scores[i]!) <= 1e-5, `score ${i}: ${s} vs ${expected.scores[i]}`));
    // Rows may swap only where two scores are within rounding of each other.
    const swapped = Array.from(got.rows).filter((r, i) => r !== expected.rows[i]);
    assert.ok(swapped.length <= 4, `${swapped.length} rows differ`);
  });

  it('refuses bad arguments with a clear error instead of reading past an array', () => {
    const addon = native as NativeAddon;
    const items = new Float32Array(12);
    const call = (...args: unknown[]) => () => (addon.topK as (...a: unknown[]) => unknown)(...args);
    assert.throws(call(items, 5, new Float32Array(5), 1, 1), /rank must divide both lengths/);
    assert.throws(call(items, 4, new Float32Array(3), 1, 1), /rank must divide both lengths/);
    assert.throws(call(items, 4, new Float32Array(4), 0, 1), RangeError);
    assert.throws(call(items, 4, new Float32Array(4), 1, 0), RangeError);
    assert.throws(call(new Float64Array(12), 4, new Float32Array(4), 1, 1), /topK\(items: Float32Array/);
    assert.throws(call(items, 4.5, new Float32Array(4), 1, 1), TypeError);
    assert.throws(call(items, 4), TypeError);
  });

  it('serves lone requests of rank >= 32 through the onnx kernel with the same answers as onnxruntime', async () => {
    const rank = 40;
    const itemFactors = smallInts(3000 * rank);
    const userFactors = smallInts(30 * rank);
    const model: ModelSnapshot = Object.freeze({
      kind: 'als',
      name: 't',
      version: 'v',
      dir: '',
      rank,
      numUsers: 30,
      numItems: 3000,
      userIds: Int32Array.from({ length: 30 }, (_, i) => i),
      itemIds: Int32Array.from({ length: 3000 }, (_, i) => i),
      userFactors,
      itemFactors,
      itemEncoding: 'float32',
      itemCodes: null,
      manifest: {} as ModelSnapshot['manifest'],
      loadedAt: new Date(),
    });
    let nativeCalls = 0;
    const counting: NativeAddon = { ...(native as NativeAddon), topK: (...args) => (nativeCalls++, (native as NativeAddon).topK(...args)) };
    const withNative = new OnnxKernel({ native: counting, threads: 2 });
    const onnxOnly = new OnnxKernel();
    try {
      for (let u = 0; u < 30; u++) {
        const exclude = new Set(u % 2 ? [0, 1, 2, u] : []);
        assert.deepEqual(await topN(withNative, model, u, 1 + u, exclude), await topN(onnxOnly, model, u, 1 + u, exclude), `user ${u}`);
      }
      assert.equal(nativeCalls, 30);
    } finally {
      await withNative.close();
      await onnxOnly.close();
    }
  });
});
