import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadBundle } from '../../src/model-store/bundle-loader.js';
import { rowOfId } from '../../src/model-store/factors.js';
import { loadNative } from '../../src/native-addon.js';
import { fewRatingsInline, foldIn, inlineFoldMath, normalEquationsInline, type Interaction } from '../../src/scorers/fold-in.js';
import { choleskySolve } from '../../src/scorers/least-squares.js';
import { importSparkSave } from '../../src/spark/import.js';
import { fixturePath, REPO_FIXTURES, tempDir } from '../helpers/fixtures.js';

/** The repository's Spark saves that carry their training ratings (scripts/make-spark-fixtures.py). */
const trained = readdirSync(REPO_FIXTURES).filter((name) => existsSync(`${fixturePath(name)}.ratings.csv`) && !name.endsWith('.csv'));

/** user -> [item, rating] from the CSV Spark was trained on. */
function ratingsByUser(file: string): Map<string, [string, number][]> {
  const byUser = new Map<string, [string, number][]>();
  for (const line of readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
    const [user, item, rating] = line.split(',');
    const list = byUser.get(user!) ?? [];
    list.push([item!, Number(rating)]);
    byUser.set(user!, list);
  }
  return byUser;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>, offset = 0): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[offset + i]!;
  return sum;
}
const norm = (a: ArrayLike<number>) => Math.sqrt(dot(a, a));

describe('fold-in gives back the user factors Spark computed', () => {
  assert.ok(trained.length >= 6, `fixtures with ratings: ${trained.join(', ')}`);
  for (const name of trained) {
    it(`${name}: every training user's own ratings fold in to Spark's saved factor (1e-4 relative) and the same top-10`, async (t) => {
      const update = await importSparkSave(fixturePath(name), tempDir(t), 'm');
      const model = await loadBundle('m', update.updateId, update.dir);
      const training = model.manifest.training!;
      assert.ok(training, 'the estimator inside the save gave the training parameters');
      assert.equal(model.itemGram !== null, training.implicitPrefs, 'YtY computed at load for implicit models only');
      const k = model.rank;
      let worst = 0;
      let users = 0;
      for (const [user, ratings] of ratingsByUser(`${fixturePath(name)}.ratings.csv`)) {
        const userRow = rowOfId(model.userIds, user);
        assert.ok(userRow >= 0, `user ${user} is in the model`);
        const interactions: Interaction[] = ratings.map(([item, rating]) => ({ row: rowOfId(model.itemIds, item), rating }));
        const folded = foldIn(model, training, model.itemGram, interactions)!;
        assert.deepEqual(foldIn(model, training, model.itemGram, interactions, inlineFoldMath), folded, `user ${user}: the TypeScript arithmetic gives the same bits`);
        const saved = model.userFactors.subarray(userRow * k, (userRow + 1) * k);
        const error = norm(Array.from(folded, (v, i) => v - saved[i]!)) / Math.max(norm(saved), 1e-12);
        worst = Math.max(worst, error);
        // Top-10 by each factor: the same items, except that items tied within float noise at the 10th place may trade.
        const scores = (u: Float32Array) => Array.from({ length: model.numItems }, (_, item) => ({ item, s: dot(u, model.itemFactors, item * k) })).sort((p, q) => q.s - p.s || p.item - q.item);
        const mine = scores(folded).slice(0, 10);
        const spark = scores(saved);
        const tenth = spark[9]!.s;
        const bySpark = new Map(spark.map(({ item, s }) => [item, s]));
        for (const { item } of mine) assert.ok(bySpark.get(item)! >= tenth - 1e-4 * Math.max(1, Math.abs(tenth)), `user ${user}: item ${item} is not in Spark's top-10`);
        users++;
      }
      t.diagnostic(`${users} users, worst relative error ${worst.toExponential(2)}`);
      assert.ok(worst <= 1e-4, `worst relative error ${worst}`);
    });
  }
});

describe('fold-in with fewer ratings than the rank', () => {
  it('solves the small m x m system and gives the normal equations\' solution (1 to rank - 1 ratings)', async (t) => {
    const update = await importSparkSave(fixturePath('explicit-spark3.5.7-rank10'), tempDir(t), 'm');
    const model = await loadBundle('m', update.updateId, update.dir);
    const training = model.manifest.training!;
    const k = model.rank;
    let worst = 0;
    for (let m = 1; m < k; m++) {
      for (let trial = 0; trial < 20; trial++) {
        const interactions: Interaction[] = Array.from({ length: m }, (_, p) => ({ row: (trial * 37 + p * 101) % model.numItems, rating: 1 + ((trial + p) % 5) }));
        // The k x k normal equations, built here.
        const a = new Float64Array(k * k);
        const b = new Float64Array(k);
        for (const { row, rating } of interactions) {
          for (let i = 0; i < k; i++) {
            for (let j = 0; j < k; j++) a[i * k + j]! += model.itemFactors[row * k + i]! * model.itemFactors[row * k + j]!;
            b[i]! += rating * model.itemFactors[row * k + i]!;
          }
        }
        for (let i = 0; i < k; i++) a[i * k + i]! += training.regParam * m;
        const want = choleskySolve(a, b, k)!;
        const got = foldIn(model, training, null, interactions)!;
        assert.deepEqual(foldIn(model, training, null, interactions, inlineFoldMath), got, 'the TypeScript arithmetic gives the same factor');
        worst = Math.max(worst, norm(Array.from(got, (v, i) => v - want[i]!)) / norm(want));
      }
    }
    assert.ok(worst < 1e-6, `worst relative difference ${worst}`);
  });
});

describe('the arithmetic of a fold-in in the addon', () => {
  const native = loadNative();
  const matrix = (rows: number, rank: number) => Float32Array.from({ length: rows * rank }, (_, i) => Math.sin(i * 12.9898) * 3.7);

  it('few explicit ratings: the same bits from the addon as from TypeScript at every rank up to 70, and the solution of the k x k system', () => {
    assert.ok(native, 'npm install builds the addon');
    for (let rank = 1; rank <= 70; rank++) {
      const items = matrix(50, rank);
      for (const m of [1, 2, 5, 17]) {
        const rows = Int32Array.from({ length: m }, (_, p) => (p * 31 + rank) % 50);
        const ratings = Float64Array.from(rows, (_, p) => 1 + ((p * 7) % 5) / 2);
        const lambda = 0.1 * m;
        const [mine, theirs] = [new Float64Array(rank).fill(9), new Float64Array(rank).fill(9)];
        assert.equal(fewRatingsInline(items, rank, rows, ratings, lambda, mine), true);
        assert.equal(native.fewRatings(items, rank, rows, ratings, lambda, theirs), true);
        assert.deepEqual(theirs, mine, `rank ${rank}, ${m} rows`);
        // (YᵀY + λI) x = Yᵀr, row i = 0 of it.
        const row = (p: number) => items.subarray(rows[p]! * rank, rows[p]! * rank + rank);
        let lhs = lambda * mine[0]!;
        let rhs = 0;
        for (let p = 0; p < m; p++) {
          lhs += row(p)[0]! * dot(row(p), mine);
          rhs += row(p)[0]! * ratings[p]!;
        }
        assert.ok(Math.abs(lhs - rhs) <= 1e-6 * Math.max(1, Math.abs(rhs)), `rank ${rank}, ${m} rows: ${lhs} against ${rhs}`);
      }
    }
  });

  it('few explicit ratings without regularisation and two equal rows: singular, false from both', () => {
    assert.ok(native, 'npm install builds the addon');
    const items = matrix(10, 8);
    const rows = Int32Array.of(3, 3);
    const ratings = Float64Array.of(1, 2);
    assert.equal(fewRatingsInline(items, 8, rows, ratings, 0, new Float64Array(8)), false);
    assert.equal(native.fewRatings(items, 8, rows, ratings, 0, new Float64Array(8)), false);
  });

  it('the normal equations: the same bits from the addon as from TypeScript, at every rank up to 70', () => {
    assert.ok(native, 'npm install builds the addon');
    for (let rank = 1; rank <= 70; rank++) {
      const items = matrix(50, rank);
      const rows = Int32Array.from({ length: 7 }, (_, p) => (p * 13 + rank) % 50);
      const weights = Float64Array.from(rows, (_, p) => 0.5 + p / 3);
      const targets = Float64Array.from(rows, (_, p) => 1 + ((p * 7) % 5) / 2);
      const start = Float64Array.from({ length: rank * rank }, (_, i) => Math.cos(i));
      const [mineA, theirsA] = [Float64Array.from(start), Float64Array.from(start)];
      const [mineB, theirsB] = [new Float64Array(rank).fill(0.25), new Float64Array(rank).fill(0.25)];
      normalEquationsInline(items, rank, rows, weights, targets, 0.75, mineA, mineB);
      native.normalEquations(items, rank, rows, weights, targets, 0.75, theirsA, theirsB);
      assert.deepEqual(theirsA, mineA, `rank ${rank}: a`);
      assert.deepEqual(theirsB, mineB, `rank ${rank}: b`);
      // Entry (0, rank - 1): the start plus each row's weighted product, in order, mirrored; λ on the diagonal.
      let want = start[rank - 1]!;
      rows.forEach((r, p) => (want += weights[p]! * items[r * rank]! * items[r * rank + rank - 1]!));
      if (rank > 1) assert.equal(mineA[rank - 1], want);
      assert.equal(mineA[(rank - 1) * rank], mineA[rank - 1]);
      let diagonal = start[0]!;
      rows.forEach((r, p) => (diagonal += weights[p]! * items[r * rank]! * items[r * rank]!));
      assert.equal(mineA[0], diagonal + 0.75);
    }
  });

  it('refuses, rather than read past the matrix, a row it does not have or an output too small', () => {
    assert.ok(native, 'npm install builds the addon');
    const items = matrix(10, 4);
    const [r1, x4] = [Float64Array.of(1, 1), new Float64Array(4)];
    assert.throws(() => native.fewRatings(items, 4, Int32Array.of(0, 10), r1, 1, x4), RangeError);
    assert.throws(() => native.fewRatings(items, 4, Int32Array.of(-1), r1, 1, x4), RangeError);
    assert.throws(() => native.fewRatings(items, 4, Int32Array.of(0, 1), Float64Array.of(1), 1, x4), RangeError);
    assert.throws(() => native.fewRatings(items, 4, Int32Array.of(0), r1, 1, new Float64Array(3)), RangeError);
    assert.throws(() => native.fewRatings(items, 3, Int32Array.of(0), r1, 1, x4), RangeError);
    assert.throws(() => native.fewRatings(items, 4, new Int32Array(0), r1, 1, x4), RangeError);
    assert.throws(() => native.fewRatings(items, 4, [0] as never, r1, 1, x4), TypeError);
    const [one, a, b] = [Float64Array.of(1), new Float64Array(16), new Float64Array(4)];
    assert.throws(() => native.normalEquations(items, 4, Int32Array.of(10), one, one, 0, a, b), RangeError);
    assert.throws(() => native.normalEquations(items, 4, Int32Array.of(0, 1), one, Float64Array.of(1, 1), 0, a, b), RangeError);
    assert.throws(() => native.normalEquations(items, 4, Int32Array.of(0), one, one, 0, new Float64Array(15), b), RangeError);
    assert.throws(() => native.normalEquations(items, 4, Int32Array.of(0), one, one, 0, a, [0] as never), TypeError);
    assert.throws(() => native.normalEquations(items, 4, Int32Array.of(0), one, one, 'x' as never, a, b), TypeError);
    assert.throws(() => native.choleskySolve(a, b, 4, new Float64Array(3)), RangeError);
    assert.throws(() => native.choleskySolve(new Float64Array(15), b, 4, b), RangeError);
    assert.throws(() => native.choleskySolve(a, b, 0, b), RangeError);
    assert.throws(() => native.choleskySolve(a, [1] as never, 1, b), TypeError);
  });
});
