import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, tempDir } from '../helpers/fixtures.js';

/** scripts/build-native.mjs in a copy of the project whose native source does not compile. */
function failingBuild(t: { after(fn: () => void): void }, env: NodeJS.ProcessEnv) {
  const root = tempDir(t);
  mkdirSync(path.join(root, 'scripts'));
  mkdirSync(path.join(root, 'native'));
  copyFileSync(path.join(REPO_ROOT, 'scripts', 'build-native.mjs'), path.join(root, 'scripts', 'build-native.mjs'));
  writeFileSync(path.join(root, 'native', 'broken.c'), 'this is not C');
  writeFileSync(path.join(root, 'binding.gyp'), JSON.stringify({ targets: [{ target_name: 'broken', sources: ['native/broken.c'] }] }));
  return spawnSync(process.execPath, ['scripts/build-native.mjs'], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
}

describe('building the native addon', () => {
  it('warns and goes on where the addon is optional', (t) => {
    const result = failingBuild(t, { RECSERVE_REQUIRE_NATIVE: '' });
    assert.equal(result.status, 0);
    assert.match(result.stderr, /the native addon did not build .*; onnxruntime will score every request, and model files will be read into memory instead of mapped/);
  });

  it('fails where it is required (RECSERVE_REQUIRE_NATIVE=1: the Docker image, CI)', (t) => {
    const result = failingBuild(t, { RECSERVE_REQUIRE_NATIVE: '1' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /the native addon did not build/);
  });
});
