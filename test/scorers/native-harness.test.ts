// The native scans' C harness (native/harness.c) built for this machine and run under every instruction set
// it has, then cross-compiled for ARM64 and run under qemu-user: every build must pass its own reference
// checks and print the same digest of every answer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, tempDir } from '../helpers/fixtures.js';
import { whichTool } from '../helpers/tools.js';
import { bestInt8Isa, cpuFlags } from '../helpers/cpu.js';

const run = promisify(execFile);
/** What node-gyp builds (binding.gyp), and the harness with the same scans instead of the Node binding. */
const ADDON_SOURCES = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'binding.gyp'), 'utf8')) as { targets: { sources: string[] }[] }).targets[0]!.sources.map((f) =>
  path.join(REPO_ROOT, f),
);
const SOURCES = ADDON_SOURCES.map((f) => (path.basename(f) === 'addon.c' ? path.join(REPO_ROOT, 'native', 'harness.c') : f));

async function build(compiler: string, out: string, extra: string[] = []): Promise<void> {
  await run(compiler, ['-O3', '-std=c11', '-Wall', '-Wextra', '-Werror', ...extra, '-o', out, ...SOURCES, '-lpthread', '-lm']);
}

/** "<isa float32> <isa int8> failures=<n> digest=<hex>" (int8 may use a lesser set: AVX-512 without VNNI runs its AVX2 scan). */
async function harness(command: string, args: string[], isa?: string): Promise<{ isa: string; int8Isa: string; failures: number; digest: string }> {
  const { stdout } = await run(command, args, { env: { ...process.env, ...(isa ? { RECSERVE_NATIVE_ISA: isa } : {}) }, maxBuffer: 2 ** 20 });
  const last = stdout.trim().split('\n').at(-1)!;
  const match = /^(\w+) (\w+) failures=(\d+) digest=([0-9a-f]{16})$/.exec(last);
  assert.ok(match, `harness output: ${stdout}`);
  return { isa: match[1]!, int8Isa: match[2]!, failures: Number(match[3]), digest: match[4]! };
}

describe('native scans on every instruction set and on ARM64', () => {
  let reference: string | undefined;

  it('this machine: every instruction set it has passes the references, with one digest', async (t) => {
    const bin = path.join(tempDir(t), 'harness');
    await build('cc', bin);
    // Every level the CPU has, best first, each forced in turn with RECSERVE_NATIVE_ISA (nothing forces
    // amx: it runs as the machine's own pick). AMX is int8's alone; float32 runs AVX-512 beside it.
    const levels = ['amx', 'avx512', 'avx2', 'portable'] as const;
    const rank = (isa: string) => levels.indexOf(isa as (typeof levels)[number]);
    const float32Best = cpuFlags.has('avx512f') ? 'avx512' : cpuFlags.has('avx2') ? 'avx2' : 'portable';
    const isas = levels.filter((isa) => rank(isa) >= rank(bestInt8Isa()) || rank(isa) >= rank(float32Best));
    const results = await Promise.all(isas.map((isa) => harness(bin, [], isa === 'amx' ? undefined : isa)));
    results.forEach((r, i) => {
      const asked = isas[i]!;
      assert.equal(r.isa, levels[Math.max(rank(asked), rank(float32Best), 1)]);
      assert.equal(r.int8Isa, levels[Math.max(rank(asked), rank(bestInt8Isa()))]);
      assert.equal(r.failures, 0, `${asked}: failures`);
    });
    assert.equal(new Set(results.map((r) => r.digest)).size, 1, `digests: ${results.map((r) => `${r.isa} ${r.digest}`).join(', ')}`);
    reference = results[0]!.digest;
    t.diagnostic(`${isas.join(', ')}: digest ${reference}`);
  });

  it('ARM64 (cross-compiled, run under qemu-user): the addon builds, the portable scans pass and give the same answers', async (t) => {
    const tools = await Promise.all(['aarch64-linux-gnu-gcc', 'qemu-aarch64'].map(whichTool));
    if (tools.some((found) => !found)) {
      // Never skipped in CI: .ci/run installs both.
      assert.ok(!process.env.CI, 'CI must have aarch64-linux-gnu-gcc and qemu-aarch64 (.ci/run installs them)');
      return t.skip('aarch64-linux-gnu-gcc or qemu-aarch64 is missing: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user');
    }
    const dir = tempDir(t);
    // The addon itself builds for ARM64 (Node-API headers of the running Node), with no warning.
    const nodeHeaders = path.resolve(path.dirname(process.execPath), '..', 'include', 'node');
    await run('aarch64-linux-gnu-gcc', ['-O3', '-std=c11', '-Wall', '-Wextra', '-Werror', '-fPIC', '-shared', `-I${nodeHeaders}`, '-o', path.join(dir, 'recserve_kernel.node'), ...ADDON_SOURCES, '-lpthread']);
    const bin = path.join(dir, 'harness-arm64');
    await build('aarch64-linux-gnu-gcc', bin, ['-static']);
    const result = await harness('qemu-aarch64', [bin]);
    assert.deepEqual([result.isa, result.int8Isa], ['portable', 'portable']);
    assert.equal(result.failures, 0);
    if (reference) assert.equal(result.digest, reference, 'ARM64 answers differ from this machine\'s');
  });
});
