import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadNative, type NativeAddon } from '../../src/native-addon.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { int8Failures, int8ThreadFailures } from '../helpers/native-cases.js';

const native = loadNative() as NativeAddon;
const cpuFlags = new Set(readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1]?.trim().split(/\s+/) ?? []);

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
  it('picks the candidates of the integer formula and re-scores them exactly, ties by row, for ranks 1-64, partial blocks, k past the end', async () => {
    assert.deepEqual(await int8Failures(native), []);
  });

  it('splits large matrices over threads and merges their candidates exactly', async () => {
    assert.deepEqual(await int8ThreadFailures(native), []);
  });

  // The machine picks its best instruction set; the others are forced in a child process, so every
  // version of both scans is checked against the same references.
  for (const [isa, flag] of [['avx2', 'avx2'], ['portable', '']] as const) {
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

  it('refuses bad arguments with a clear error instead of reading past an array', () => {
    const rank = 4;
    const items = new Float32Array(3 * rank);
    const good: unknown[] = [new Int8Array(3 * rank), new Int32Array(3), new Float32Array(3), items, rank, new Uint8Array(rank), new Float32Array(rank), 2, 5, 1];
    const call = (at: number, value: unknown) => () => {
      const args = [...good];
      args[at] = value;
      (native.topKInt8 as (...a: unknown[]) => unknown)(...args);
    };
    assert.doesNotThrow(call(9, 1));
    assert.throws(call(0, new Int8Array(3 * rank - 1)), /codes and items must hold rank values per item/);
    assert.throws(call(0, new Uint8Array(3 * rank)), /topKInt8\(codes: Int8Array/);
    assert.throws(call(1, new Int32Array(2)), RangeError);
    assert.throws(call(2, new Float32Array(4)), RangeError);
    assert.throws(call(4, 5), RangeError);
    assert.throws(call(5, new Uint8Array(rank + 1)), RangeError);
    assert.throws(call(6, new Float32Array(rank - 1)), RangeError);
    assert.throws(call(7, 0), RangeError);
    assert.throws(call(9, 0), RangeError);
    assert.throws(call(8, 1.5), TypeError);
  });
});
