import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadNative, type NativeAddon } from '../../src/native-addon.js';
import { NativeInt8Kernel } from '../../src/scorers/native-int8.js';
import { snapshotOf } from '../helpers/snapshots.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { int8Failures, int8ThreadFailures, referenceFloat32 } from '../helpers/native-cases.js';
import { bestInt8Isa, cpuFlags } from '../helpers/cpu.js';

const native = loadNative() as NativeAddon;

const THP_SETTING = '/sys/kernel/mm/transparent_hugepage/enabled';

/**
 * In a fresh process (no other layout there, none collected meanwhile): the bytes of its mappings that
 * asked for transparent huge pages (VmFlags hg in smaps) before and after laying out `items` x 64.
 */
async function hugeAdvisedAround(items: number): Promise<{ before: number; after: number; tileBytes: number }> {
  const script = `
    const { readFileSync } = require('node:fs');
    const advised = () => {
      let total = 0, size = 0;
      for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
        const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
        if (range) size = parseInt(range[2], 16) - parseInt(range[1], 16);
        else if (line.startsWith('VmFlags:') && / hg\\b/.test(line)) total += size;
      }
      return total;
    };
    const before = advised();
    require('./build/Release/recserve_kernel.node').int8Layout(new Float32Array(${items} * 64).fill(0.5), 64, 2)
      .then((layout) => console.log(JSON.stringify({ before, after: advised(), tileBytes: layout.tiles.byteLength })));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: REPO_ROOT });
  return JSON.parse(stdout);
}

/** The failures of every native case in a child process that uses the given instruction set. */
async function failuresUnder(isa: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/helpers/native-cases-cli.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, RECSERVE_NATIVE_ISA: isa },
    maxBuffer: 16 * 2 ** 20,
  });
  return JSON.parse(stdout);
}

describe('native int8 scan', () => {
  it('gives the exact top k (float64 sums, ties by row) for ties, spread norms and near-duplicates, ranks 1-64, partial tiles, k past the end', async () => {
    assert.deepEqual(await int8Failures(native), []);
  });

  it('splits large matrices over threads and merges what they kept exactly', async () => {
    assert.deepEqual(await int8ThreadFailures(native), []);
  });

  it(`uses the best int8 instruction set this machine has (${bestInt8Isa()})`, () => {
    assert.equal(native.isa().int8, bestInt8Isa());
  });

  // The machine picks its best instruction set; the others are forced in a child process, so every
  // version of both scans is checked against the same references (AVX-512 where AMX is the pick).
  const forced = [...(bestInt8Isa() === 'amx' ? [['avx512', 'avx512_vnni'] as const] : []), ['avx2', 'avx2'] as const, ['portable', ''] as const];
  for (const [isa, flag] of forced) {
    it(`gives the same answers with the ${isa} version of both scans`, async (t) => {
      if (flag && !cpuFlags.has(flag)) return t.skip(`this CPU has no ${flag}`);
      assert.deepEqual(await failuresUnder(isa), []);
      // The child really ran that version.
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', `console.log(JSON.stringify(require('./build/Release/recserve_kernel.node').isa()))`], {
        cwd: REPO_ROOT,
        env: { ...process.env, RECSERVE_NATIVE_ISA: isa },
      });
      assert.deepEqual(JSON.parse(stdout), { float32: isa, int8: isa });
    });
  }

  it('maps a large layout on 2 MiB boundaries and asks Linux for huge pages (a scan streams its tiles)', async (t) => {
    if (!existsSync(THP_SETTING)) return t.skip(`this kernel has no transparent huge pages (${THP_SETTING} is missing)`);
    // 100,000 x 64: 6.4 MB of tiles, their own mapping; the smaller parts stay V8's. Whether Linux grants the
    // pages is its own affair (AnonHugePages); the scans over such a mapping are checked with the rest, by
    // the 70,000 x 64 cases of 'splits large matrices over threads'.
    const large = await hugeAdvisedAround(100_000);
    assert.ok(large.after - large.before >= large.tileBytes, JSON.stringify(large));
    // 2,000 x 64: 128 KB of tiles, under a huge page: V8's own buffer, nothing advised.
    const small = await hugeAdvisedAround(2_000);
    assert.equal(small.after, small.before);
  });

  it("lays the items out by descending norm, then scale, every row once, and refuses a layout whose rows are not the model's", async () => {
    const rank = 3;
    // Norms 1, 5, 2, 5, 0, 4 and 5; largest |value| 1, 4, 2, 5, 0, 4 and 4: the longest first, the largest
    // value first within a norm (row 3), rows ascending within both (1, 6), the padding -1.
    const items = Float32Array.from([1, 0, 0, 0, 3, 4, 0, 2, 0, 5, 0, 0, 0, 0, 0, 0, 0, 4, 4, 3, 0]);
    const layout = await native.int8Layout(items, rank, 1);
    assert.deepEqual(Array.from(layout.rows), [3, 1, 6, 5, 2, 0, 4, ...new Array(9).fill(-1)]);
    const user = Float32Array.from([1, 1, 1]);
    const { rows } = await native.topKInt8(layout, items, rank, user, 7, 1);
    assert.deepEqual(Array.from(rows), Array.from(referenceFloat32(items, rank, user, 7).rows));
    // Rows are checked before they are read: a layout that maps a kept place past the model is an error, not a read past the items.
    const tampered = { ...layout, rows: layout.rows.map((row) => (row === 1 ? 600 : row)) };
    await assert.rejects(native.topKInt8(tampered, items, rank, user, 6, 1), /the int8 layout's rows are not the model's/);
  });

  it('builds the layout of a model once, and again after a build that failed', async () => {
    let builds = 0;
    const flaky: NativeAddon = {
      ...native,
      int8Layout: (...args: Parameters<NativeAddon['int8Layout']>) => (++builds === 1 ? Promise.reject(new Error('int8Layout: out of memory')) : native.int8Layout(...args)),
    };
    const kernel = new NativeInt8Kernel(flaky, 1);
    const items = Float32Array.from({ length: 40 }, (_, i) => i % 7);
    const user = Float32Array.from([1, 0, 0, 1]);
    const model = snapshotOf(items, user, 4, 100);
    await assert.rejects(kernel.prepare(model), /out of memory/);
    const [first] = await kernel.topK(model, user, 2);
    await kernel.topK(model, Float32Array.from([0, 1, 0, 0]), 2);
    assert.equal(builds, 2);
    assert.deepEqual(Array.from(first!.rows), Array.from(referenceFloat32(items, 4, user, 2).rows));
  });

  it('refuses bad arguments with a clear error instead of reading past an array', async () => {
    const rank = 4;
    const items = new Float32Array(3 * rank).map((_, i) => i);
    const layout = await native.int8Layout(items, rank, 1);
    const good: unknown[] = [layout, items, rank, new Float32Array(rank), 2, 1];
    const call = (at: number, value: unknown) => () => {
      const args = [...good];
      args[at] = value;
      (native.topKInt8 as (...a: unknown[]) => unknown)(...args);
    };
    assert.doesNotThrow(call(5, 1));
    assert.throws(call(0, { ...layout, tiles: new Int8Array(layout.tiles.length - 1) }), /the layout must be int8Layout's for these items/);
    assert.throws(call(0, { ...layout, bounds: undefined }), /topKInt8\(layout: \{ numItems: integer, tiles: Int8Array/);
    assert.throws(call(0, { ...layout, numItems: undefined }), TypeError);
    assert.throws(call(0, { ...layout, offsets: new Int32Array(layout.offsets.length + 16) }), RangeError);
    assert.throws(call(0, { ...layout, rows: new Int32Array(layout.rows.length - 1) }), RangeError);
    assert.throws(call(0, { ...layout, rows: new Float32Array(layout.rows.length) }), TypeError);
    // A layout built for other items: the same tiles' length (7 items pad to one tile as 3 do), not the same items.
    assert.throws(call(1, new Float32Array(7 * rank)), RangeError);
    assert.throws(call(2, 5), RangeError);
    assert.throws(call(3, new Float32Array(rank - 1)), RangeError);
    assert.throws(call(3, new Uint8Array(rank)), TypeError);
    assert.throws(call(4, 0), RangeError);
    assert.throws(call(5, 0), RangeError);
    assert.throws(call(4, 1.5), TypeError);
    assert.throws(call(8, 1), TypeError, 'background must be a boolean');
    assert.doesNotThrow(call(8, false));
    assert.throws(call(6, [0]), TypeError, 'excluded rows must be an Int32Array');
    assert.throws(() => native.int8Layout(items, 5, 1), /rank must divide/);
    assert.throws(() => native.int8Layout(items, rank, 0), /threads 1-256/);
    assert.throws(() => native.int8Layout(items, rank, 1, new Int8Array(3 * rank), new Float32Array(2)), /scales one per item/);
    assert.throws(() => (native.int8Layout as (...a: unknown[]) => unknown)(items, rank, 1, new Uint8Array(3 * rank), new Float32Array(3)), TypeError);
    assert.throws(() => (native.int8Layout as (...a: unknown[]) => unknown)(items, rank), TypeError);
  });
});
