// The native scans' C harness (native/harness.c): built from binding.gyp's sources with harness.c in place of
// the Node binding, for this machine or cross-compiled, and run: "<isa float32> <isa int8> failures=<n>
// digest=<hex>".
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './fixtures.js';

export const run = promisify(execFile);

/** What node-gyp builds (binding.gyp): the C sources, and the C++ one that writes JSON (items_json.cc, which the harness leaves out). */
const ADDON_SOURCES = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'binding.gyp'), 'utf8')) as { targets: { sources: string[] }[] }).targets[0]!.sources.map((f) =>
  path.join(REPO_ROOT, f),
);
export const ADDON_C_SOURCES = ADDON_SOURCES.filter((f) => f.endsWith('.c'));
export const ADDON_CXX_SOURCES = ADDON_SOURCES.filter((f) => f.endsWith('.cc'));
/** The Node binding's own files (they include node_api.h): the harness stands in for them. */
const BINDING = new Set(['addon.c', 'map_file.c']);
const SOURCES = [...ADDON_C_SOURCES.filter((f) => !BINDING.has(path.basename(f))), path.join(REPO_ROOT, 'native', 'harness.c')];

/** The harness built by `compiler` into `out`, warnings as errors. */
export async function buildHarness(compiler: string, out: string, extra: string[] = []): Promise<void> {
  await run(compiler, ['-O3', '-std=c11', '-Wall', '-Wextra', '-Werror', ...extra, '-o', out, ...SOURCES, '-lpthread', '-lm']);
}

/** The harness's verdict (int8 may use a lesser set: AVX-512 without VNNI runs its AVX2 scan), `isa` forced when given. */
export async function runHarness(command: string, args: string[], isa?: string): Promise<{ isa: string; int8Isa: string; failures: number; digest: string }> {
  const { stdout } = await run(command, args, { env: { ...process.env, ...(isa ? { RECSERVE_NATIVE_ISA: isa } : {}) }, maxBuffer: 2 ** 20 });
  const last = stdout.trim().split('\n').at(-1)!;
  const match = /^(\w+) (\w+) failures=(\d+) digest=([0-9a-f]{16})$/.exec(last);
  assert.ok(match, `harness output: ${stdout}`);
  return { isa: match[1]!, int8Isa: match[2]!, failures: Number(match[3]), digest: match[4]! };
}
