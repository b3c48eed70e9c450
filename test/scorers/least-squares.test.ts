import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadNative } from '../../src/native-addon.js';
import { choleskySolve, choleskySolveInline, nnlsSolve, nnlsSolveInline, type CholeskySolve } from '../../src/scorers/least-squares.js';

/** A seeded generator of values in [-1, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** B Bᵀ + shift·I for a random k x (k+2) B: symmetric positive definite. */
function spd(k: number, next: () => number, shift = 0.1): Float64Array {
  const cols = k + 2;
  const m = Array.from({ length: k * cols }, next);
  const a = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let p = 0; p < cols; p++) a[i * k + j]! += m[i * cols + p]! * m[j * cols + p]!;
  for (let i = 0; i < k; i++) a[i * k + i]! += shift;
  return a;
}

const times = (a: Float64Array, x: Float64Array, k: number) => Float64Array.from({ length: k }, (_, i) => x.reduce((s, xj, j) => s + a[i * k + j]! * xj, 0));
const objective = (a: Float64Array, b: Float64Array, x: Float64Array, k: number) => 0.5 * times(a, x, k).reduce((s, v, i) => s + v * x[i]!, 0) - b.reduce((s, v, i) => s + v * x[i]!, 0);

/** Both Cholesky solves: the addon's (the default where it is built) and TypeScript's. */
const solvers: [string, CholeskySolve][] = [
  ['addon', choleskySolve],
  ['TypeScript', choleskySolveInline],
];

describe('least squares for fold-in', () => {
  it('the addon is built, so the default solve is its own', () => {
    assert.ok(loadNative(), 'npm install builds the addon');
    assert.notEqual(choleskySolve, choleskySolveInline);
    assert.notEqual(nnlsSolve, nnlsSolveInline);
  });

  for (const [name, solve] of solvers) {
    it(`Cholesky (${name}) solves SPD systems of rank 1 to 70 to a small residual, and refuses one that is not positive definite`, () => {
      const next = random(3);
      for (const k of [1, 2, 3, 8, 15, 33, 64, 70]) {
        const a = spd(k, next);
        const b = Float64Array.from({ length: k }, next);
        const [a0, b0] = [Float64Array.from(a), Float64Array.from(b)];
        const x = solve(a, b, k)!;
        const residual = Math.max(...times(a, x, k).map((v, i) => Math.abs(v - b[i]!)));
        assert.ok(residual < 1e-9, `rank ${k}: residual ${residual}`);
        assert.deepEqual([a, b], [a0, b0], 'A and b are left as they were');
      }
      assert.equal(solve(Float64Array.from([1, 2, 2, 1]), Float64Array.from([1, 1]), 2), null);
      assert.equal(solve(Float64Array.from([4, 2, 2, 1]), Float64Array.from([1, 1]), 2), null, 'semidefinite');
    });
  }

  it('Cholesky gives the same bits from the addon as from TypeScript, at every rank up to 70', () => {
    const next = random(11);
    for (let k = 1; k <= 70; k++) {
      const a = spd(k, next);
      const b = Float64Array.from({ length: k }, next);
      assert.deepEqual(choleskySolve(a, b, k), choleskySolveInline(a, b, k), `rank ${k}`);
    }
  });

  it('NNLS meets the optimality conditions, and equals the best of every sign pattern on small systems, from the addon and TypeScript alike', () => {
    const next = random(9);
    for (let trial = 0; trial < 60; trial++) {
      const k = 1 + (trial % 6);
      const a = spd(k, next, 0.05);
      const b = Float64Array.from({ length: k }, next);
      const x = nnlsSolve(a, b, k)!;
      assert.deepEqual(nnlsSolveInline(a, b, k), x, 'the same bits from TypeScript as from the addon');
      const gradient = times(a, x, k).map((v, i) => v - b[i]!);
      for (let i = 0; i < k; i++) {
        assert.ok(x[i]! >= 0, 'feasible');
        if (x[i]! > 0) assert.ok(Math.abs(gradient[i]!) < 1e-9, `free variable ${i} at a stationary point`);
        else assert.ok(gradient[i]! > -1e-9, `bound variable ${i} cannot improve`);
      }
      // Brute force: every subset of free variables, solved exactly; the feasible one with the least objective.
      let best = Infinity;
      for (let mask = 0; mask < 1 << k; mask++) {
        const keep = [...Array(k).keys()].filter((i) => mask & (1 << i));
        const sub = new Float64Array(keep.length ** 2);
        keep.forEach((i, p) => keep.forEach((j, q) => (sub[p * keep.length + q] = a[i * k + j]!)));
        const z = keep.length ? choleskySolve(sub, Float64Array.from(keep, (i) => b[i]!), keep.length)! : new Float64Array(0);
        if (z.some((v) => v < 0)) continue;
        const full = new Float64Array(k);
        keep.forEach((i, p) => (full[i] = z[p]!));
        best = Math.min(best, objective(a, b, full, k));
      }
      assert.ok(Math.abs(objective(a, b, x, k) - best) < 1e-10, `trial ${trial}: ${objective(a, b, x, k)} vs ${best}`);
    }
  });

  it('NNLS gives the same bits from the addon as from TypeScript up to rank 70, and both refuse a sub-system that is not positive definite', () => {
    const next = random(21);
    for (let k = 1; k <= 70; k += k < 10 ? 1 : 7) {
      const a = spd(k, next, 0.05);
      const b = Float64Array.from({ length: k }, next);
      const x = nnlsSolve(a, b, k)!;
      assert.deepEqual(x, nnlsSolveInline(a, b, k), `rank ${k}`);
      assert.ok(x.some((v) => v === 0) || k < 3, `rank ${k}: some variables are held at 0`);
    }
    // x0 enters first, and its 1 x 1 system [0] has no solution.
    const singular = Float64Array.from([0, 0, 0, 1]);
    assert.equal(nnlsSolve(singular, Float64Array.from([1, 1]), 2), null);
    assert.equal(nnlsSolveInline(singular, Float64Array.from([1, 1]), 2), null);
  });

  it('NNLS equals Cholesky when the unconstrained solution is positive', () => {
    const k = 5;
    const a = spd(k, random(5), 1);
    const want = Float64Array.from([0.5, 1, 2, 0.25, 3]);
    const b = times(a, want, k);
    const x = nnlsSolve(a, b, k)!;
    for (let i = 0; i < k; i++) assert.ok(Math.abs(x[i]! - want[i]!) < 1e-9);
  });
});
