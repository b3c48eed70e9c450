import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadBundle } from '../../src/model-store/bundle-loader.js';
import type { ModelSnapshot } from '../../src/model-store/snapshot.js';
import { loadNative } from '../../src/native-addon.js';
import { OnnxKernel, type OnnxKernelOptions } from '../../src/scorers/onnx-kernel.js';
import { recallAtK } from '../../src/scorers/recall.js';
import { topN, type ScoredItem } from '../../src/scorers/index.js';
import { importSparkSave } from '../../src/spark/import.js';
import { fixturePath, tempDir } from '../helpers/fixtures.js';
import { publishSynth } from '../helpers/synth-feed.js';
import { servingStack } from '../helpers/serving.js';

const none = new Set<number>();
const native = loadNative();

/** Both int8 first passes: onnxruntime's MatMulInteger graph and the native scan, with the stats path each takes. */
const int8Passes: [string, OnnxKernelOptions, 'int8' | 'nativeInt8'][] = [
  ['onnxruntime', { int8MinMatrixBytes: 0 }, 'int8'],
  ['native', { native }, 'nativeInt8'],
];

/** The same mapped bundle without its codes: the exact float32 path. */
const asFloat32 = (s: ModelSnapshot): ModelSnapshot => Object.freeze({ ...s, itemEncoding: 'float32' as const, itemCodes: null });

/** float64 dot products of the mapped factors, rounded to float32: what an exact re-score must return. */
function exactScore(s: ModelSnapshot, userRow: number, itemRow: number): number {
  let sum = 0;
  for (let j = 0; j < s.rank; j++) sum += s.userFactors[userRow * s.rank + j]! * s.itemFactors[itemRow * s.rank + j]!;
  return Math.fround(sum);
}

/** Mean and worst recall@n of an int8 pass against the exact float32 kernel over evenly spread users. */
async function measureRecall(s: ModelSnapshot, users: number, n: number, options: OnnxKernelOptions, path: 'int8' | 'nativeInt8') {
  const exact = new OnnxKernel({ threads: 2 });
  const int8 = new OnnxKernel({ threads: 2, ...options });
  try {
    let total = 0;
    let worst = 1;
    for (let i = 0; i < users; i++) {
      const row = Math.floor((i * s.numUsers) / users);
      const got = await topN(int8, s, row, n, none);
      for (const item of got) assert.equal(item.score, exactScore(s, row, item.row), `user row ${row}: returned scores are exact`);
      const recall = recallAtK(await topN(exact, asFloat32(s), row, n, none), got);
      total += recall;
      worst = Math.min(worst, recall);
    }
    assert.equal(int8.stats.paths[path], users, `every request took the ${path} pass`);
    assert.equal(int8.stats.requests, users);
    return { mean: total / users, worst };
  } finally {
    await exact.close();
    await int8.close();
  }
}

describe('int8 first pass with exact float32 re-scoring', () => {
  const recallCases: [string, number, (dir: string) => ReturnType<typeof publishSynth>][] = [
    ['the real mllatest fixture (43,331 items, rank 15)', 2000, (dir) => importSparkSave(fixturePath('mllatest-spark2.3.0-rank15'), dir, 'm', undefined, 'int8')],
    ['a synthetic 200,000 x 32 model', 300, (dir) => publishSynth(dir, 'm', { users: 1000, items: 200_000, rank: 32, seed: 11, itemEncoding: 'int8' })],
  ];
  for (const [label, users, publish] of recallCases) {
    it(`keeps recall@10 >= 0.99 on ${label}, ${users} users, with either first pass`, async (t) => {
      assert.ok(native, 'the native addon is built');
      const update = await publish(tempDir(t));
      const snapshot = await loadBundle('m', update.updateId, update.dir);
      for (const [pass, options, path] of int8Passes) {
        const { mean, worst } = await measureRecall(snapshot, users, 10, options, path);
        assert.ok(mean >= 0.99, `${pass}: mean recall@10 ${mean}`);
        t.diagnostic(`${pass}: recall@10 mean ${mean.toFixed(4)}, worst ${worst}`);
      }
    });
  }

  it('recall@10 falls without re-score candidates, so the second pass is what keeps it', async (t) => {
    const update = await publishSynth(tempDir(t), 'syn', { users: 300, items: 100_000, rank: 32, seed: 12, itemEncoding: 'int8' });
    const s = await loadBundle('syn', update.updateId, update.dir);
    const exact = new OnnxKernel();
    try {
      for (const [pass, options] of int8Passes) {
        const bare = new OnnxKernel({ rescoreCandidates: 0, ...options });
        let total = 0;
        for (let row = 0; row < 300; row++) total += recallAtK(await topN(exact, asFloat32(s), row, 10, none), await topN(bare, s, row, 10, none));
        await bare.close();
        assert.ok(total / 300 < 0.995, `${pass}: recall@10 without extra candidates ${total / 300}`);
      }
    } finally {
      await exact.close();
    }
  });

  it('honours exclusions and answers the same for concurrent (shared-run) and single requests, and natively', async (t) => {
    const update = await publishSynth(tempDir(t), 'syn', { users: 40, items: 5000, rank: 8, seed: 13, itemEncoding: 'int8' });
    const s = await loadBundle('syn', update.updateId, update.dir);
    const single = new OnnxKernel({ batching: false, int8MinMatrixBytes: 0 });
    const batched = new OnnxKernel({ batching: true, int8MinMatrixBytes: 0 });
    const nativeBatched = new OnnxKernel({ batching: true, native });
    try {
      const first = await topN(single, s, 0, 5, none);
      const excluded = await topN(single, s, 0, 5, new Set([first[0]!.row, first[2]!.row]));
      assert.deepEqual(excluded.map((x) => x.row), (await topN(single, s, 0, 7, none)).map((x) => x.row).filter((r) => r !== first[0]!.row && r !== first[2]!.row).slice(0, 5));
      const expected: ScoredItem[][] = [];
      for (let u = 0; u < 40; u++) expected.push(await topN(single, s, u, 1 + (u % 10), none));
      const together = await Promise.all(Array.from({ length: 40 }, (_, u) => topN(batched, s, u, 1 + (u % 10), none)));
      // Integer dot products do not depend on the batch: identical lists and scores.
      assert.deepEqual(together, expected);
      assert.ok(batched.stats.runs < 40 / 4, `${batched.stats.runs} runs for 40 concurrent requests`);
      assert.equal(batched.stats.paths.int8, batched.stats.runs);
      // The native scan computes the same integers and re-scores the same way: the very same answers.
      assert.deepEqual(await Promise.all(Array.from({ length: 40 }, (_, u) => topN(nativeBatched, s, u, 1 + (u % 10), none))), expected);
      assert.equal(nativeBatched.stats.requests, 40);
      assert.equal(nativeBatched.stats.paths.nativeInt8, nativeBatched.stats.runs);
      assert.ok(nativeBatched.stats.runs < 40 / 4, `${nativeBatched.stats.runs} native calls for 40 concurrent requests`);
    } finally {
      await single.close();
      await batched.close();
      await nativeBatched.close();
    }
  });

  it('without the native scan, scans int8 bundles whose float32 matrix would sit in cache in float32, and larger ones in int8', async (t) => {
    const small = await publishSynth(tempDir(t), 'syn', { users: 5, items: 3000, rank: 8, itemEncoding: 'int8' });
    const large = await publishSynth(tempDir(t), 'syn', { users: 5, items: 40_000, rank: 32, itemEncoding: 'int8' });
    const kernel = new OnnxKernel();
    const withNative = new OnnxKernel({ native });
    try {
      await topN(kernel, await loadBundle('syn', small.updateId, small.dir), 0, 10, none);
      assert.deepEqual(kernel.stats.paths, { float32: 1, int8: 0, native: 0, nativeInt8: 0 });
      // 40,000 x 32 float32 is 5.1 MB, past the default 4 MiB.
      await topN(kernel, await loadBundle('syn', large.updateId, large.dir), 0, 10, none);
      assert.deepEqual(kernel.stats.paths, { float32: 1, int8: 1, native: 0, nativeInt8: 0 });
      // The native int8 scan is faster than float32 at every size, and needs no onnxruntime session.
      const sessions = (k: OnnxKernel) => (k as unknown as { sessions: Map<string, unknown> }).sessions.size;
      await withNative.prepare(await loadBundle('syn', large.updateId, large.dir));
      assert.equal(sessions(withNative), 0);
      assert.equal(sessions(kernel), 2, 'float32 and int8 sessions of the onnxruntime-only kernel');
      await topN(withNative, await loadBundle('syn', small.updateId, small.dir), 0, 10, none);
      await topN(withNative, await loadBundle('syn', large.updateId, large.dir), 0, 10, none);
      assert.deepEqual(withNative.stats.paths, { float32: 0, int8: 0, native: 0, nativeInt8: 2 });
    } finally {
      await kernel.close();
      await withNative.close();
    }
  });

  it('serves an int8 bundle over HTTP with exact scores and shows the encoding in /models', async (t) => {
    const feed = tempDir(t);
    await publishSynth(feed, 'syn', { users: 20, items: 40_000, rank: 32, seed: 14, itemEncoding: 'int8' });
    const stack = await servingStack(feed, ['syn']);
    try {
      await stack.store.loadAll();
      const models = (await stack.app.inject('/models')).json().models;
      assert.equal(models[0].itemEncoding, 'int8');
      const s = stack.store.get('syn')! as ModelSnapshot;
      const body = (await stack.app.inject('/recommend/3?n=5')).json();
      assert.equal(body.items.length, 5);
      for (const item of body.items) assert.equal(item.score, exactScore(s, 3, Number(item.itemId)));
    } finally {
      await stack.close();
    }
  });
});
