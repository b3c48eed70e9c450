import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadBundle } from '../../src/model-store/bundle-loader.js';
import { quantizeUser, USER_CODE_ZERO } from '../../src/model-store/quantize.js';
import type { ModelSnapshot } from '../../src/model-store/snapshot.js';
import { topN, type KernelName, type ScoredItem } from '../../src/scorers/index.js';
import { importSparkSave } from '../../src/spark/import.js';
import { fixturePath, LARGE_FIXTURE, optionalFixture, tempDir } from '../helpers/fixtures.js';
import { referenceFloat32 } from '../helpers/native-cases.js';
import { recallAtK } from '../helpers/recall.js';
import { scorerWith } from '../helpers/scorer.js';
import { publishSynth } from '../helpers/synth-feed.js';
import { servingStack } from '../helpers/serving.js';

const none = new Set<number>();

/** Both int8 first passes: onnxruntime's MatMulInteger graph and the native scan. */
const int8Kernels: KernelName[] = ['onnx-int8', 'native-int8'];

/** The exact top n of a user (float64 sums rounded to float32, ties by row), by brute force. */
function exactTopN(s: ModelSnapshot, userRow: number, n: number) {
  const { rows, scores } = referenceFloat32(s.itemFactors, s.rank, s.userFactors.subarray(userRow * s.rank, (userRow + 1) * s.rank), n);
  return Array.from(rows, (row, i) => ({ row, score: scores[i] }));
}

/** The same mapped bundle without its codes: the exact float32 path. */
const asFloat32 = (s: ModelSnapshot): ModelSnapshot => Object.freeze({ ...s, itemEncoding: 'float32' as const, itemCodes: null });

/** float64 dot products of the mapped factors, rounded to float32: what an exact re-score must return. */
function exactScore(s: ModelSnapshot, userRow: number, itemRow: number): number {
  let sum = 0;
  for (let j = 0; j < s.rank; j++) sum += s.userFactors[userRow * s.rank + j]! * s.itemFactors[itemRow * s.rank + j]!;
  return Math.fround(sum);
}

/** Mean and worst recall@n of an int8 kernel against the exact float32 kernel over evenly spread users. */
async function measureRecall(s: ModelSnapshot, users: number, n: number, kernel: KernelName) {
  const exact = scorerWith(['onnx-float32'], { threads: 2 });
  const int8 = scorerWith([kernel], { threads: 2 });
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
    assert.equal(int8.stats.kernels[kernel], users, `every request took ${kernel}`);
    return { mean: total / users, worst };
  } finally {
    await exact.close();
    await int8.close();
  }
}

describe('7-bit user codes', () => {
  it('stay within 1-127 around 64, so no pair of u8 x s8 products can saturate int16', () => {
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
    for (let trial = 0; trial < 200; trial++) {
      const user = Float32Array.from({ length: 1 + (trial % 70) }, () => rand() * 10 ** ((trial % 7) - 3));
      const codes = quantizeUser(user);
      const max = Math.max(...user.map(Math.abs));
      codes.forEach((c, j) => {
        assert.ok(c >= 1 && c <= 127, `code ${c}`);
        // The largest magnitude maps to the edge of the range.
        if (Math.abs(user[j]!) === max && max > 0) assert.equal(Math.abs(c - USER_CODE_ZERO), USER_CODE_ZERO - 1);
      });
    }
    assert.ok(2 * 127 * 127 <= 32767);
  });
});

describe('the native int8 scan is exact', () => {
  const cases: [string, number, (dir: string) => ReturnType<typeof publishSynth>][] = [
    ['the real mllatest fixture (43,331 items, rank 15), float32', 400, (dir) => importSparkSave(fixturePath(LARGE_FIXTURE), dir, 'm')],
    ['a synthetic 200,000 x 32 int8 bundle (its own codes)', 60, (dir) => publishSynth(dir, 'm', { users: 1000, items: 200_000, rank: 32, seed: 11, itemEncoding: 'int8' })],
  ];
  for (const [label, users, publish] of cases) {
    it(`answers every user as brute force does, rows and scores: ${label}, ${users} users`, async (t) => {
      const large = optionalFixture(LARGE_FIXTURE);
      if (label.includes('mllatest') && 'skip' in large) return t.skip(large.skip);
      const update = await publish(tempDir(t));
      const s = await loadBundle('m', update.updateId, update.dir);
      const scorer = scorerWith(['native-int8'], { threads: 2 });
      try {
        for (let i = 0; i < users; i++) {
          const row = Math.floor((i * s.numUsers) / users);
          const got = (await topN(scorer, s, row, 10, none)).map(({ row, score }) => ({ row, score }));
          assert.deepEqual(got, exactTopN(s, row, 10), `user row ${row}`);
        }
        assert.equal(scorer.stats.kernels['native-int8'], users);
      } finally {
        await scorer.close();
      }
    });
  }
});

describe('int8 first pass with exact float32 re-scoring', () => {
  const recallCases: [string, number, (dir: string) => ReturnType<typeof publishSynth>][] = [
    ['the real mllatest fixture (43,331 items, rank 15)', 2000, (dir) => importSparkSave(fixturePath(LARGE_FIXTURE), dir, 'm', undefined, 'int8')],
    ['a synthetic 200,000 x 32 model', 300, (dir) => publishSynth(dir, 'm', { users: 1000, items: 200_000, rank: 32, seed: 11, itemEncoding: 'int8' })],
  ];
  for (const [label, users, publish] of recallCases) {
    it(`keeps recall@10 >= 0.99 on ${label}, ${users} users, with either first pass`, async (t) => {
      const large = optionalFixture(LARGE_FIXTURE);
      if (label.includes('mllatest') && 'skip' in large) return t.skip(large.skip);
      const update = await publish(tempDir(t));
      const snapshot = await loadBundle('m', update.updateId, update.dir);
      for (const kernel of int8Kernels) {
        const { mean, worst } = await measureRecall(snapshot, users, 10, kernel);
        assert.ok(mean >= 0.99, `${kernel}: mean recall@10 ${mean}`);
        t.diagnostic(`${kernel}: recall@10 mean ${mean.toFixed(4)}, worst ${worst}`);
      }
    });
  }

  it('onnx-int8: recall@10 falls without re-score candidates, so the second pass is what keeps it', async (t) => {
    const update = await publishSynth(tempDir(t), 'syn', { users: 300, items: 100_000, rank: 32, seed: 12, itemEncoding: 'int8' });
    const s = await loadBundle('syn', update.updateId, update.dir);
    const exact = scorerWith(['onnx-float32']);
    try {
      for (const kernel of ['onnx-int8'] as const) {
        const bare = scorerWith([kernel], { rescoreCandidates: 0 });
        let total = 0;
        for (let row = 0; row < 300; row++) total += recallAtK(await topN(exact, asFloat32(s), row, 10, none), await topN(bare, s, row, 10, none));
        await bare.close();
        assert.ok(total / 300 < 0.995, `${kernel}: recall@10 without extra candidates ${total / 300}`);
      }
    } finally {
      await exact.close();
    }
  });

  it('honours exclusions and answers the same for concurrent (batched) and single requests, with either first pass', async (t) => {
    const update = await publishSynth(tempDir(t), 'syn', { users: 40, items: 5000, rank: 8, seed: 13, itemEncoding: 'int8' });
    const s = await loadBundle('syn', update.updateId, update.dir);
    const single = scorerWith(['onnx-int8']);
    try {
      const first = await topN(single, s, 0, 5, none);
      const excluded = await topN(single, s, 0, 5, new Set([first[0]!.row, first[2]!.row]));
      assert.deepEqual(excluded.map((x) => x.row), (await topN(single, s, 0, 7, none)).map((x) => x.row).filter((r) => r !== first[0]!.row && r !== first[2]!.row).slice(0, 5));
      const expected: ScoredItem[][] = [];
      for (let u = 0; u < 40; u++) expected.push(await topN(single, s, u, 1 + (u % 10), none));
      for (const kernel of int8Kernels) {
        const batched = scorerWith([kernel], { batching: true });
        // Integer dot products do not depend on the batch or the kernel: identical lists and scores.
        assert.deepEqual(await Promise.all(Array.from({ length: 40 }, (_, u) => topN(batched, s, u, 1 + (u % 10), none))), expected, kernel);
        assert.equal(batched.stats.requests, 40);
        assert.equal(batched.stats.kernels[kernel], batched.stats.runs);
        assert.ok(batched.stats.runs < 40 / 4, `${kernel}: ${batched.stats.runs} runs for 40 concurrent requests`);
        await batched.close();
      }
    } finally {
      await single.close();
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
      // Both native kernels (off the event loop) were timed on it; onnxruntime's run on the event loop.
      assert.deepEqual(models[0].scoring.timings.map((x: { kernel: string }) => x.kernel), ['native-float32', 'native-int8']);
      const s = stack.store.get('syn')! as ModelSnapshot;
      const body = (await stack.app.inject('/recommend/3?n=5')).json();
      assert.equal(body.items.length, 5);
      for (const item of body.items) assert.equal(item.score, exactScore(s, 3, Number(item.itemId)));
    } finally {
      await stack.close();
    }
  });
});
