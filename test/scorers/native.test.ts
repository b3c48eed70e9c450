import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadNative, type NativeAddon } from '../../src/native-addon.js';
import { topN } from '../../src/scorers/index.js';
import { float32Failures, randomSource, referenceFloat32, smallInts as smallIntsFrom } from '../helpers/native-cases.js';
import { fullGc } from '../helpers/gc.js';
import { scorerWith } from '../helpers/scorer.js';
import { snapshotOf } from '../helpers/snapshots.js';

const native = loadNative();

const rand = randomSource(5);

/** This process's threads, name and Linux scheduling policy (field 41 of a task's stat: 3 SCHED_BATCH, 5 SCHED_IDLE). */
function threadPolicies(): { tid: number; name: string; policy: number }[] {
  return readdirSync('/proc/self/task').map((t) => {
    const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
    // The fields after the command (which may hold spaces) start at field 3.
    return { tid: Number(t), name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), policy: Number(stat.replace(/^.*\) /s, '').split(' ')[41 - 3]) };
  });
}
const idleClassThreads = () => threadPolicies().filter((t) => t.policy === 5).length;
const smallInts = (n: number) => smallIntsFrom(rand, n);

describe('native scan', () => {
  it('is built by npm install', () => {
    assert.ok(native, 'build/Release/recserve_kernel.node should exist: npm install runs scripts/build-native.mjs');
  });

  it('matches the reference exactly, ties by row, for ranks around every vector width, odd row counts, k past the end, batches and threads', async () => {
    assert.deepEqual(await float32Failures(native as NativeAddon), []);
  });

  it('splits large matrices over threads and merges their heaps exactly, for a lone pair and for groups of lanes', async () => {
    const addon = native as NativeAddon;
    const rank = 64;
    // 20,011 x 64 is past the size from which the scan starts threads; exact ties abound with small integers.
    // 40 users fill 5 groups of lanes, scored 3 and 2 at a time.
    const items = smallInts(20011 * rank);
    for (const [batch, threadCounts] of [[2, [1, 2, 3, 8]], [40, [1, 2]]] as const) {
      const users = smallInts(batch * rank);
      for (const threads of threadCounts) {
        const got = await addon.topK(items, rank, users, 25, threads);
        for (let b = 0; b < batch; b++) {
          const expected = referenceFloat32(items, rank, users.subarray(b * rank, (b + 1) * rank), 25);
          assert.deepEqual(Array.from(got.rows.subarray(b * 25, (b + 1) * 25)), Array.from(expected.rows), `${batch} users, ${threads} threads, user ${b}`);
        }
      }
    }
  });

  it('agrees with float64 scores to float32 rounding on random factors', async () => {
    const addon = native as NativeAddon;
    const rank = 64;
    const items = Float32Array.from({ length: 20_000 * rank }, () => rand() - 0.5);
    const user = Float32Array.from({ length: rank }, () => rand() - 0.5);
    const got = await addon.topK(items, rank, user, 50, 2);
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
    // Exclusions (3 items, 2 users of rank 4, k 1): offsets must split ascending rows of the matrix per user, leaving k.
    const two = new Float32Array(8);
    const excluding = (rows: number[], offsets: number[]) => call(items, 4, two, 1, 1, Int32Array.from(rows), Int32Array.from(offsets));
    assert.throws(excluding([0], [0, 1]), /offsets must split the excluded rows/, 'one offset short');
    assert.throws(excluding([0], [1, 1, 1]), RangeError, 'not from 0');
    assert.throws(excluding([0], [0, 0, 2]), RangeError, 'past the rows');
    assert.throws(excluding([1, 0], [0, 2, 2]), RangeError, 'descending');
    assert.throws(excluding([1, 1], [0, 2, 2]), RangeError, 'repeated');
    assert.throws(excluding([3], [0, 1, 1]), RangeError, 'not a row of the matrix');
    assert.throws(excluding([-1], [0, 1, 1]), RangeError, 'negative');
    assert.throws(excluding([0, 1, 2], [0, 3, 3]), RangeError, 'nothing left to rank');
    assert.throws(call(items, 4, two, 1, 1, [0], Int32Array.of(0, 1, 1)), TypeError);
    assert.throws(call(items, 4, two, 1, 1, Int32Array.of(0)), TypeError, 'excluded rows without their offsets');
    assert.throws(call(items, 4, two, 1, 1, undefined, undefined, 'yes'), TypeError, 'background must be a boolean');
    assert.doesNotThrow(call(items, 4, two, 1, 1, undefined, undefined, true));
  });

  it('refuses the int8 scan exclusions that do not split ascending rows of the matrix per user, leaving k', async () => {
    const addon = native as NativeAddon;
    const items = new Float32Array(12);
    const layout = await addon.int8Layout(items, 4, 1);
    const two = new Float32Array(8);
    const call = (...rest: unknown[]) => () => (addon.topKInt8 as (...a: unknown[]) => unknown)(layout, items, 4, two, 1, 1, ...rest);
    const excluding = (rows: number[], offsets: number[]) => call(Int32Array.from(rows), Int32Array.from(offsets));
    assert.throws(excluding([0], [0, 1]), /topKInt8: offsets must split the excluded rows/, 'one offset short');
    assert.throws(excluding([1, 0], [0, 2, 2]), RangeError, 'descending');
    assert.throws(excluding([3], [0, 1, 1]), RangeError, 'not a row of the matrix');
    assert.throws(excluding([0, 1, 2], [0, 3, 3]), RangeError, 'nothing left to rank');
    assert.throws(call([0], Int32Array.of(0, 1, 1)), /topKInt8\(layout/, 'rows not an Int32Array');
    assert.throws(call(Int32Array.of(0)), TypeError, 'excluded rows without their offsets');
    assert.throws(call(undefined, undefined, 'yes'), TypeError, 'background must be a boolean');
    await assert.doesNotReject(call(Int32Array.of(2), Int32Array.of(0, 1, 1), true)() as Promise<unknown>);
  });

  it('runs background scans whole on threads of their own in the idle scheduling class, none waiting on a libuv thread, with the same answers', async () => {
    const addon = native as NativeAddon;
    const rank = 16;
    // Past the size where a scan stays on one thread (2^22 values), so the foreground ones use two.
    const items = smallInts(300_000 * rank);
    const users = smallInts(5 * rank);
    const layout = await addon.int8Layout(items, rank, 2);
    const excluded = Int32Array.of(1, 7, 9), offsets = Int32Array.of(0, 2, 2, 3, 3, 3);
    const expected = await addon.topK(items, rank, users, 10, 2, excluded, offsets);
    assert.deepEqual(await addon.topKInt8(layout, items, rank, users, 10, 2, excluded, offsets), expected, 'the int8 scan gives the float32 answer');
    // Six at once, more than libuv's four threads: each gets a thread of its own at once, since no libuv
    // thread waits for one.
    const scans = Array.from({ length: 6 }, (_, i) =>
      i % 2 ? addon.topKInt8(layout, items, rank, users, 10, 1, excluded, offsets, true) : addon.topK(items, rank, users, 10, 1, excluded, offsets, true),
    );
    for (const got of await Promise.all(scans)) assert.deepEqual(got, expected);
    assert.ok(idleClassThreads() >= 6, `${idleClassThreads()} threads in the idle class`);
  });

  it('scans live requests on threads in the batch class, which never preempt the event loop on waking', async (t) => {
    if (process.platform !== 'linux') return t.skip('scheduling classes are Linux\'s');
    const addon = native as NativeAddon;
    const rank = 64;
    // Past the size from which the scan uses its scoring threads, on two of them.
    const items = smallInts(100_000 * rank);
    const users = smallInts(4 * rank);
    const layout = await addon.int8Layout(items, rank, 2);
    await Promise.all([addon.topK(items, rank, users, 10, 2), addon.topKInt8(layout, items, rank, users, 10, 2)]);
    const threads = threadPolicies();
    const scoring = threads.filter((th) => th.name === 'recserve-scan');
    assert.ok(scoring.length >= 1 && scoring.every((th) => th.policy === 3), `scoring threads: ${JSON.stringify(scoring)}`);
    // libuv's threads that ran the scans' own slices (named after the process, unlike the addon's).
    assert.ok(threads.filter((th) => !th.name.startsWith('recserve') && th.policy === 3).length >= 1, `no libuv thread in the batch class: ${JSON.stringify(threads)}`);
    assert.equal(threads.find((th) => th.tid === process.pid)!.policy, 0, 'the event loop (the main thread) stays in the normal class');
  });

  it('leaves out each user\'s excluded rows and ranks the rest, from the whole matrix, in both scans', async () => {
    const addon = native as NativeAddon;
    // Item i scores i for user 0 and -i for user 1 (rank 1).
    const items = Float32Array.from({ length: 6 }, (_, i) => i);
    const users = Float32Array.of(1, -1);
    const excluded = Int32Array.of(4, 5, 0), offsets = Int32Array.of(0, 2, 3);
    assert.deepEqual(Array.from((await addon.topK(items, 1, users, 2, 1, excluded, offsets)).rows), [3, 2, 1, 2]);
    const layout = await addon.int8Layout(items, 1, 1);
    assert.deepEqual(Array.from((await addon.topKInt8(layout, items, 1, users, 2, 1, excluded, offsets)).rows), [3, 2, 1, 2]);
  });

  it('scans off the JavaScript thread on scoring threads started once', async () => {
    const addon = native as NativeAddon;
    const rank = 64;
    // 400,000 x 64 takes milliseconds per scan, so a scan on the event loop would show as its delay.
    const items = Float32Array.from({ length: 400_000 * rank }, () => rand() - 0.5);
    const user = Float32Array.from({ length: rank }, () => rand() - 0.5);
    let turns = 0;
    const counter = setInterval(() => turns++, 0);
    const started = addon.poolThreads();
    try {
      const scans = [];
      for (let i = 0; i < 40; i++) scans.push(addon.topK(items, rank, user, 10, 2));
      const before = turns;
      await Promise.all(scans);
      assert.ok(turns > before, 'the event loop turned while the scans ran');
    } finally {
      clearInterval(counter);
    }
    // 40 scans of two threads each: the calling libuv threads plus at most one started scoring thread.
    assert.ok(addon.poolThreads() <= Math.max(started, 1), `${addon.poolThreads()} scoring threads`);
  });

  it('keeps the arrays of a scan in flight alive when nothing else holds them', async () => {
    const addon = native as NativeAddon;
    const rank = 32;
    const items = smallInts(1_000_000 * rank);
    const user = smallInts(rank);
    const expected = referenceFloat32(items, rank, user, 5);
    // Copies that only the call holds: collected while the scan reads them, they would come back wrong or crash.
    const pending = addon.topK(items.slice(), rank, user.slice(), 5, 1);
    for (let i = 0; i < 5; i++) fullGc();
    const got = await pending;
    assert.deepEqual(Array.from(got.rows), Array.from(expected.rows));
  });

  it('native-float32 and onnx-float32 give the same answers through the scorer, exclusions included', async () => {
    const rank = 40;
    const model = snapshotOf(smallInts(3000 * rank), smallInts(30 * rank), rank);
    const withNative = scorerWith(['native-float32'], { threads: 2 });
    const onnxOnly = scorerWith(['onnx-float32']);
    try {
      for (let u = 0; u < 30; u++) {
        const exclude = new Set(u % 2 ? [0, 1, 2, u] : []);
        assert.deepEqual(await topN(withNative, model, u, 1 + u, exclude), await topN(onnxOnly, model, u, 1 + u, exclude), `user ${u}`);
      }
      assert.equal(withNative.stats.kernels['native-float32'], 30);
    } finally {
      await withNative.close();
      await onnxOnly.close();
    }
  });
});
