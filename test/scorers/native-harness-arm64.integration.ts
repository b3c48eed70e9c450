// The native scans on ARM64: the addon and the C harness (native/harness.c) cross-compiled, the harness run
// under qemu-user (about two minutes, hence the integration suite), its answers' digest equal to this
// machine's portable build.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import path from 'node:path';
import { tempDir } from '../helpers/fixtures.js';
import { ADDON_C_SOURCES, ADDON_CXX_SOURCES, buildHarness, run, runHarness } from '../helpers/native-harness.js';
import { whichTool } from '../helpers/tools.js';

describe('native scans on ARM64', () => {
  it('ARM64 (cross-compiled, run under qemu-user): the addon builds, the portable scans pass and give the same answers', async (t) => {
    const tools = await Promise.all(['aarch64-linux-gnu-gcc', 'aarch64-linux-gnu-g++', 'qemu-aarch64'].map(whichTool));
    if (tools.some((found) => !found)) {
      // Never skipped in CI: .ci/run installs them.
      assert.ok(!process.env.CI, 'CI must have aarch64-linux-gnu-gcc, aarch64-linux-gnu-g++ and qemu-aarch64 (.ci/run installs them)');
      return t.skip('aarch64-linux-gnu-gcc, aarch64-linux-gnu-g++ or qemu-aarch64 is missing: apt-get install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user');
    }
    const dir = tempDir(t);
    // The addon itself builds for ARM64 (Node-API headers of the running Node), with no warning.
    const nodeHeaders = path.resolve(path.dirname(process.execPath), '..', 'include', 'node');
    // Each source compiles to <name>.o in dir; the C++ compiler links them (items_json.cc needs its library).
    const flags = ['-O3', '-Wall', '-Wextra', '-Werror', '-fPIC', '-c'];
    await run('aarch64-linux-gnu-gcc', [...flags, '-std=c11', `-I${nodeHeaders}`, ...ADDON_C_SOURCES], { cwd: dir });
    await run('aarch64-linux-gnu-g++', [...flags, '-std=c++17', ...ADDON_CXX_SOURCES], { cwd: dir });
    const objects = [...ADDON_C_SOURCES, ...ADDON_CXX_SOURCES].map((source) => path.join(dir, `${path.parse(source).name}.o`));
    await run('aarch64-linux-gnu-g++', ['-shared', '-o', path.join(dir, 'recserve_kernel.node'), ...objects, '-lpthread']);
    // A shared object may leave symbols undefined (Node-API's are Node's): the C++ file's must be in it.
    const { stdout: symbols } = await run('aarch64-linux-gnu-nm', ['--defined-only', path.join(dir, 'recserve_kernel.node')]);
    assert.match(symbols, / T items_json$/m);
    const host = path.join(dir, 'harness');
    const arm64 = path.join(dir, 'harness-arm64');
    await Promise.all([buildHarness('cc', host), buildHarness('aarch64-linux-gnu-gcc', arm64, ['-static'])]);
    // Every instruction set gives the same digest (native-harness.test.ts), so the portable one stands for all.
    const [reference, result] = await Promise.all([runHarness(host, [], 'portable'), runHarness('qemu-aarch64', [arm64])]);
    assert.deepEqual([result.isa, result.int8Isa], ['portable', 'portable']);
    assert.equal(reference.failures, 0);
    assert.equal(result.failures, 0);
    assert.equal(result.digest, reference.digest, 'ARM64 answers differ from this machine\'s');
    t.diagnostic(`ARM64 and this machine: digest ${result.digest}`);
  });
});
