import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import type { ModelSnapshot } from '../../src/model-store/snapshot.js';
import { Scorer, type KernelName, type ScoringKernel, type TopK } from '../../src/scorers/index.js';
import { tinySnapshot } from '../helpers/snapshots.js';

/** A kernel that answers each user with its own first value as the row, and says when each run starts. */
class FakeKernel implements ScoringKernel {
  readonly runs: number[][] = [];
  /** Per run: whether the scorer asked for a background scan. */
  readonly background: boolean[] = [];
  readonly offEventLoop: boolean;
  private release: (() => void)[] = [];

  constructor(
    readonly name: KernelName,
    private readonly options: { held?: boolean; costMs?: (users: number) => number; clock?: { now: number }; int8?: boolean; onEventLoop?: boolean } = {},
  ) {
    this.offEventLoop = !options.onEventLoop;
  }

  accepts(model: ModelSnapshot): boolean {
    return !this.options.int8 || model.itemCodes !== null;
  }

  async prepare(): Promise<void> {}

  async topK(model: ModelSnapshot, users: Float32Array, k: number, _exclusions?: unknown, background = false): Promise<TopK[]> {
    const rows = Array.from({ length: users.length / model.rank }, (_, i) => users[i * model.rank]!);
    this.runs.push(rows);
    this.background.push(background);
    if (this.options.clock) this.options.clock.now += this.options.costMs!(rows.length);
    if (this.options.held) await new Promise<void>((resolve) => this.release.push(resolve));
    return rows.map((row) => ({ rows: Int32Array.from({ length: k }, (_, j) => row + j), scores: new Float32Array(k) }));
  }

  /** Finishes the oldest run in flight. */
  finish(): void {
    this.release.shift()?.();
  }

  /** Finishes the newest run in flight. */
  finishNewest(): void {
    this.release.pop()?.();
  }

  async close(): Promise<void> {}
}

/** Users whose factor vectors start with their own row number, so a fake kernel can tell them apart. */
const model = tinySnapshot({ users: 100, items: 10, rank: 2, userFactor: (row, j) => (j === 0 ? row : 0) });
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('scorer', () => {
  it('batches continuously: a run in flight holds new requests, the next run takes them oldest first, at most maxBatch', async () => {
    const kernel = new FakeKernel('native-float32', { held: true });
    const scorer = new Scorer({ kernels: [kernel], batching: true, maxBatch: 32, gatherMs: 0 });
    const first = scorer.topK(model, 0, 3);
    await tick();
    assert.deepEqual(kernel.runs, [[0]], 'a lone request starts a run at once');
    const waiting = Array.from({ length: 50 }, (_, i) => scorer.topK(model, i + 1, 1 + (i % 3)));
    await tick();
    assert.equal(kernel.runs.length, 1, 'nothing else runs while the first run is in flight');
    kernel.finish();
    assert.deepEqual(Array.from((await first).rows), [0, 1, 2]);
    await tick();
    assert.deepEqual(kernel.runs[1], Array.from({ length: 32 }, (_, i) => i + 1));
    kernel.finish();
    await tick();
    assert.deepEqual(kernel.runs[2], Array.from({ length: 18 }, (_, i) => i + 33));
    kernel.finish();
    const answers = await Promise.all(waiting);
    // Each request gets its own user's list, cut to its own k.
    answers.forEach((a, i) => assert.deepEqual(Array.from(a.rows), Array.from({ length: 1 + (i % 3) }, (_, j) => i + 1 + j)));
    assert.deepEqual(scorer.stats, { runs: 3, requests: 51, largestBatch: 32, kernels: { 'native-float32': 3, 'native-int8': 0, 'onnx-float32': 0, 'onnx-int8': 0, js: 0 } });
  });

  it('scores live requests before background ones (batch lines), which still get a quarter of every run', async () => {
    const kernel = new FakeKernel('native-float32', { held: true });
    const scorer = new Scorer({ kernels: [kernel], batching: true, maxBatch: 8, gatherMs: 0 });
    const none = new Int32Array(0);
    // A batch of 40 background users: the first 8 start a run (requests of one turn share it), the rest queue.
    const batch = Array.from({ length: 40 }, (_, i) => scorer.topK(model, i, 1, none, true));
    await tick();
    assert.deepEqual(kernel.runs, [[0, 1, 2, 3, 4, 5, 6, 7]]);
    // Live requests arriving meanwhile go into the next run, ahead of the 32 queued batch users; with 10
    // live ones waiting, 6 fit beside the quarter of the run (2) kept for the batch.
    const live = Array.from({ length: 10 }, (_, i) => scorer.topK(model, 50 + i, 1));
    await tick();
    kernel.finish();
    await tick();
    assert.deepEqual(kernel.runs[1], [50, 51, 52, 53, 54, 55, 8, 9]);
    kernel.finish();
    await tick();
    // The last 4 live ones, then the batch fills the room left.
    assert.deepEqual(kernel.runs[2], [56, 57, 58, 59, 10, 11, 12, 13]);
    for (let i = 0; i < 5; i++) {
      kernel.finish();
      await tick();
    }
    const answers = await Promise.all([...batch, ...live]);
    answers.forEach((a, i) => assert.equal(a.rows[0], i < 40 ? i : 50 + i - 40));
    assert.deepEqual(kernel.runs.slice(3), [[14, 15, 16, 17, 18, 19, 20, 21], [22, 23, 24, 25, 26, 27, 28, 29], [30, 31, 32, 33, 34, 35, 36, 37], [38, 39]]);
  });

  it('keeps one place of a small run for background queries, so a batch moves under full live load', async () => {
    const kernel = new FakeKernel('native-float32', { held: true });
    const scorer = new Scorer({ kernels: [kernel], batching: true, maxBatch: 2, gatherMs: 0 });
    const none = new Int32Array(0);
    const first = scorer.topK(model, 90, 1);
    await tick();
    const queued = [...[0, 1].map((u) => scorer.topK(model, u, 1, none, true)), ...[50, 51, 52].map((u) => scorer.topK(model, u, 1))];
    await tick();
    for (let i = 0; i < 4; i++) {
      kernel.finish();
      await tick();
    }
    await Promise.all([first, ...queued]);
    assert.deepEqual(kernel.runs, [[90], [50, 0], [51, 1], [52]]);
  });

  it('leaves batch lines to background scans, oldest first in even shares of whole runs, and live requests to the main scan', async () => {
    const kernel = new FakeKernel('native-int8', { held: true });
    const scorer = new Scorer({ kernels: [kernel], batching: true, maxBatch: 4, gatherMs: 0, backgroundScans: 2, backgroundBatch: 8 });
    const none = new Int32Array(0);
    const batch = Array.from({ length: 15 }, (_, i) => scorer.topK(model, i, 1, none, true));
    await tick();
    // Two background scans share the 15 lines in runs of 4: half of them (7.5) is two runs (8), half of the 7
    // left one run (4); and no main run.
    assert.deepEqual(kernel.runs, [[0, 1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11]]);
    assert.deepEqual(kernel.background, [true, true]);
    // Live requests start the main scan, which keeps its quarter for the lines still waiting.
    const live = [50, 51].map((u) => scorer.topK(model, u, 1));
    await tick();
    assert.deepEqual(kernel.runs.slice(2), [[50, 51, 12, 13]]);
    assert.deepEqual(kernel.background.slice(2), [false]);
    // The first background scan, finished, takes the line left; then nothing waits.
    kernel.finish();
    await tick();
    assert.deepEqual(kernel.runs.slice(3), [[14]]);
    assert.deepEqual(kernel.background.slice(3), [true]);
    for (let i = 0; i < 3; i++) {
      kernel.finish();
      await tick();
    }
    const answers = await Promise.all([...batch, ...live]);
    answers.forEach((a, i) => assert.equal(a.rows[0], i < 15 ? i : 50 + i - 15));
    assert.equal(kernel.runs.length, 4);
  });

  it('gives a background scan at most eight runs of batch lines by default, the next started before the last is delivered', async () => {
    const kernel = new FakeKernel('native-int8', { held: true });
    const scorer = new Scorer({ kernels: [kernel], batching: true, maxBatch: 4, gatherMs: 0, backgroundScans: 1 });
    const batch = Array.from({ length: 40 }, (_, i) => scorer.topK(model, i, 1, new Int32Array(0), true));
    let runsWhenFirstAnswered = 0;
    void batch[0]!.then(() => (runsWhenFirstAnswered = kernel.runs.length));
    await tick();
    assert.deepEqual(kernel.runs, [Array.from({ length: 32 }, (_, i) => i)]);
    kernel.finish();
    for (let turn = 0; turn < 10 && kernel.runs.length < 2; turn++) await tick();
    assert.deepEqual(kernel.runs.slice(1), [Array.from({ length: 8 }, (_, i) => 32 + i)]);
    // The scan thread had the rest before the event loop handed out the first 32 answers.
    assert.equal(runsWhenFirstAnswered, 2);
    assert.deepEqual(kernel.background, [true, true]);
    kernel.finish();
    const answers = await Promise.all(batch);
    answers.forEach((a, i) => assert.equal(a.rows[0], i));
  });

  it('after a batch, a run starting from idle waits a moment for about as many requests', async () => {
    const kernel = new FakeKernel('native-float32');
    // A long window, so that only the arrival of the requests ends a wait here, however loaded the machine.
    const scorer = new Scorer({ kernels: [kernel], batching: true, maxBatch: 32, gatherMs: 60_000 });
    // Requests of one turn of the event loop share a run.
    await Promise.all(Array.from({ length: 8 }, (_, i) => scorer.topK(model, i, 1)));
    assert.deepEqual(kernel.runs.map((r) => r.length), [8]);
    // Clients answered together come back over a few turns of the event loop: one run takes them all.
    const first = scorer.topK(model, 10, 1);
    await new Promise((resolve) => setImmediate(resolve));
    const rest = Array.from({ length: 7 }, (_, i) => scorer.topK(model, 11 + i, 1));
    await Promise.all([first, ...rest]);
    assert.deepEqual(kernel.runs.slice(1), [[10, 11, 12, 13, 14, 15, 16, 17]]);
    // After lone runs nothing waits for company (a wait here would last the whole minute).
    const alone = new FakeKernel('native-float32');
    const quiet = new Scorer({ kernels: [alone], batching: true, maxBatch: 32, gatherMs: 60_000 });
    const started = performance.now();
    for (let i = 0; i < 3; i++) await quiet.topK(model, i, 1);
    assert.deepEqual(alone.runs, [[0], [1], [2]]);
    assert.ok(performance.now() - started < 30_000, 'lone requests after lone runs start at once');
  });

  it('without batching runs every request on its own', async () => {
    const kernel = new FakeKernel('js');
    const scorer = new Scorer({ kernels: [kernel], batching: false, maxBatch: 32, gatherMs: 0 });
    await Promise.all(Array.from({ length: 5 }, (_, i) => scorer.topK(model, i, 1)));
    assert.deepEqual(kernel.runs, [[0], [1], [2], [3], [4]]);
  });

  it('serves each model with the kernel measured fastest on it, lone and batched apart, among those that accept it', async () => {
    const clock = { now: 0 };
    // b is faster alone, c on batches; a is slower at both; the int8 one would be fastest but needs codes.
    const a = new FakeKernel('onnx-float32', { clock, costMs: (n) => 5 + n });
    const b = new FakeKernel('native-float32', { clock, costMs: (n) => 1 + 2 * n });
    const c = new FakeKernel('js', { clock, costMs: (n) => 4 + 0.5 * n });
    const int8 = new FakeKernel('native-int8', { clock, costMs: () => 0.1, int8: true });
    const scorer = new Scorer({ kernels: [a, int8, b, c], batching: true, maxBatch: 32, gatherMs: 0, clock: () => clock.now });
    const choice = await scorer.prepare(model);
    assert.deepEqual([choice.lone.name, choice.batched.name], ['native-float32', 'js']);
    assert.deepEqual(choice.timings, [
      { kernel: 'onnx-float32', loneMs: 6, batchMs: 13 },
      { kernel: 'native-float32', loneMs: 3, batchMs: 17 },
      { kernel: 'js', loneMs: 4.5, batchMs: 8 },
    ]);
    assert.equal(await scorer.prepare(model), choice, 'measured once per snapshot');
  });

  it('serves with kernels that scan off the event loop whenever one accepts the model, however fast the others', async () => {
    const clock = { now: 0 };
    const onLoop = new FakeKernel('onnx-float32', { clock, costMs: () => 0.1, onEventLoop: true });
    const offLoop = new FakeKernel('native-float32', { clock, costMs: () => 5 });
    const int8OffLoop = new FakeKernel('native-int8', { clock, costMs: () => 1, int8: true });
    const choice = await new Scorer({ kernels: [onLoop, offLoop, int8OffLoop], batching: true, maxBatch: 8, gatherMs: 0, clock: () => clock.now }).prepare(model);
    assert.deepEqual([choice.lone.name, choice.batched.name, choice.timings.length], ['native-float32', 'native-float32', 0]);
    // Without one (no native addon), the fastest of the others.
    const js = new FakeKernel('js', { clock, costMs: () => 3, onEventLoop: true });
    const without = await new Scorer({ kernels: [js, onLoop], batching: true, maxBatch: 8, gatherMs: 0, clock: () => clock.now }).prepare(model);
    assert.deepEqual([without.lone.name, without.batched.name], ['onnx-float32', 'onnx-float32']);
  });

  it('rejects the requests of a failed run and goes on with the next', async () => {
    let calls = 0;
    const flaky: ScoringKernel = {
      name: 'onnx-float32',
      offEventLoop: false,
      accepts: () => true,
      prepare: async () => {},
      topK: async (_m, users, k) => {
        if (calls++ === 0) throw new Error('boom');
        return Array.from({ length: users.length / 2 }, () => ({ rows: new Int32Array(k), scores: new Float32Array(k) }));
      },
      close: async () => {},
    };
    const scorer = new Scorer({ kernels: [flaky], batching: true, maxBatch: 32, gatherMs: 0 });
    await assert.rejects(scorer.topK(model, 0, 1), /boom/);
    assert.equal((await scorer.topK(model, 1, 1)).rows.length, 1);
  });

  it('refuses a model no configured kernel accepts', async () => {
    const scorer = new Scorer({ kernels: [new FakeKernel('native-int8', { int8: true })], batching: true, maxBatch: 4, gatherMs: 0 });
    await assert.rejects(scorer.topK(model, 0, 1), /no configured scoring kernel accepts model t \(float32\)/);
  });
});
