// The native scans' C harness (native/harness.c) built for this machine and run under every instruction set
// it has: every build must pass its own reference checks and print the same digest of every answer. The
// ARM64 build, run under qemu-user (two minutes), is in native-harness-arm64.integration.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import path from 'node:path';
import { tempDir } from '../helpers/fixtures.js';
import { bestInt8Isa, cpuFlags } from '../helpers/cpu.js';
import { buildHarness, runHarness } from '../helpers/native-harness.js';

describe('native scans on every instruction set', () => {
  it('this machine: every instruction set it has passes the references, with one digest', async (t) => {
    const bin = path.join(tempDir(t), 'harness');
    await buildHarness('cc', bin);
    // Every level the CPU has, best first, each forced in turn with RECSERVE_NATIVE_ISA (nothing forces
    // amx: it runs as the machine's own pick). AMX is int8's alone; float32 runs AVX-512 beside it.
    const levels = ['amx', 'avx512', 'avx2', 'portable'] as const;
    const rank = (isa: string) => levels.indexOf(isa as (typeof levels)[number]);
    const float32Best = cpuFlags.has('avx512f') ? 'avx512' : cpuFlags.has('avx2') ? 'avx2' : 'portable';
    const isas = levels.filter((isa) => rank(isa) >= rank(bestInt8Isa()) || rank(isa) >= rank(float32Best));
    const results = await Promise.all(isas.map((isa) => runHarness(bin, [], isa === 'amx' ? undefined : isa)));
    results.forEach((r, i) => {
      const asked = isas[i]!;
      assert.equal(r.isa, levels[Math.max(rank(asked), rank(float32Best), 1)]);
      assert.equal(r.int8Isa, levels[Math.max(rank(asked), rank(bestInt8Isa()))]);
      assert.equal(r.failures, 0, `${asked}: failures`);
    });
    assert.equal(new Set(results.map((r) => r.digest)).size, 1, `digests: ${results.map((r) => `${r.isa} ${r.digest}`).join(', ')}`);
    t.diagnostic(`${isas.join(', ')}: digest ${results[0]!.digest}`);
  });
});
