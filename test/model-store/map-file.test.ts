import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadBundle } from '../../src/model-store/bundle-loader.js';
import { aligned, mapFile } from '../../src/model-store/map-file.js';
import { loadNative, type NativeAddon } from '../../src/native-addon.js';
import { REPO_ROOT, tempDir } from '../helpers/fixtures.js';
import { collectGarbage } from '../helpers/gc.js';
import { publishSynth } from '../helpers/synth-feed.js';

const native = loadNative() as NativeAddon;
const ADDON_PATH = path.join(REPO_ROOT, 'build', 'Release', 'recserve_kernel.node');

/** The files this process maps with their permissions, from /proc/self/maps (Linux): "r--s" is read-only and shared. */
const mappings = (): Map<string, string> =>
  new Map(
    readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .map((line) => line.split(/\s+/))
      .filter((fields) => fields[5]?.startsWith('/'))
      .map((fields) => [fields.slice(5).join(' '), fields[1]!] as const),
  );
const mappedFiles = (): string[] => [...mappings().keys()];

function fileOf(t: Parameters<typeof tempDir>[0], name: string, bytes: Buffer): string {
  const file = path.join(tempDir(t), name);
  writeFileSync(file, bytes);
  return file;
}

describe('mapFile', () => {
  it('maps a file read-only with its bytes, and unmaps it once the buffer is collected', async (t) => {
    const bytes = randomBytes(3 * 4096 + 13);
    const file = fileOf(t, 'factors.f32', bytes);
    let mapped: Buffer | null = native.mapFile(file);
    assert.ok(mapped.equals(bytes));
    assert.equal(mappings().get(file), 'r--s', 'mapped read-only and shared');
    // A page of its own: any typed view over it is aligned.
    assert.equal(mapped.byteOffset, 0);
    mapped = null;
    await collectGarbage();
    assert.ok(!mappedFiles().includes(file), 'the mapping is gone after a collection');
  });

  it('gives an empty buffer for an empty file', (t) => {
    assert.equal(native.mapFile(fileOf(t, 'empty', Buffer.alloc(0))).length, 0);
  });

  it("gives a FIFO in a file's place an empty buffer at once, rather than waiting for a writer", (t) => {
    const fifo = path.join(tempDir(t), 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    // In a child process, so that a blocking open fails the test instead of hanging it.
    const child = spawnSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(ADDON_PATH)}).mapFile(${JSON.stringify(fifo)}).length)`], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(child.stdout.trim(), '0', child.stderr);
  });

  it('throws with the path and the reason for a missing file, a directory or a bad argument', (t) => {
    const dir = tempDir(t);
    assert.throws(() => native.mapFile(path.join(dir, 'missing')), { message: `mapFile: cannot open ${path.join(dir, 'missing')}: No such file or directory` });
    mkdirSync(path.join(dir, 'folder'));
    assert.throws(() => native.mapFile(path.join(dir, 'folder')), /^Error: mapFile: cannot (map|open) .*folder: /);
    assert.throws(() => (native.mapFile as (p: unknown) => Buffer)(42), { name: 'TypeError', message: 'mapFile: the path must be a non-empty string' });
    assert.throws(() => native.mapFile(''), { name: 'TypeError' });
  });

  it('reads the file into memory where the addon is not built', (t) => {
    for (const size of [0, 5, 12, 100, 4 * 4096 + 4]) {
      const bytes = randomBytes(size);
      const read = mapFile(fileOf(t, `f${size}`, bytes), null);
      assert.ok(read.equals(bytes));
      assert.equal(read.byteOffset % 8, 0, `${size} bytes start aligned`);
      assert.ok(!mappedFiles().some((f) => f.endsWith(`/f${size}`)), 'read, not mapped');
    }
  });

  it('copies bytes at an unaligned offset to a buffer of their own, and leaves aligned ones as they are', () => {
    const backing = new Uint8Array(64).map((_, i) => i);
    const unaligned = Buffer.from(backing.buffer, 3, 40);
    const copy = aligned(unaligned);
    assert.equal(copy.byteOffset % 8, 0);
    assert.ok(copy.equals(unaligned));
    assert.notEqual(copy.buffer, backing.buffer);
    const atEight = Buffer.from(backing.buffer, 8, 40);
    assert.equal(aligned(atEight), atEight);
  });

  it('serves a loaded bundle from mappings of its files', async (t) => {
    const update = await publishSynth(tempDir(t), 'm', { users: 30, items: 70, rank: 5, seed: 9 });
    const snapshot = await loadBundle('m', update.updateId, update.dir, { verifyChecksums: true });
    const maps = mappedFiles();
    for (const file of ['user-factors.f32', 'item-factors.f32']) assert.ok(maps.includes(path.join(update.dir, file)), `${file} is mapped`);
    assert.equal(snapshot.numItems, 70);
  });
});
