import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadBundle } from '../../src/model-store/bundle-loader.js';
import { BUNDLE_FILES } from '../../src/model-store/manifest.js';
import { synthModel } from '../../src/model-store/synth.js';
import { RecserveError } from '../../src/errors.js';
import { tempDir } from '../helpers/fixtures.js';
import { publishSynth } from '../helpers/synth-feed.js';
import { sha256Files } from '../../src/model-store/sha256-files.js';

async function assertBundleRejected(dir: string, message: RegExp, verifyChecksums = true, nativeChecks = true): Promise<void> {
  await assert.rejects(loadBundle('m', path.basename(dir), dir, { verifyChecksums, nativeChecks }), (err: unknown) => {
    assert.ok(err instanceof RecserveError);
    assert.equal(err.code, 'bundle_invalid');
    assert.match(err.message, message);
    return true;
  });
}

describe('bundles', () => {
  it('round-trips a model through publish and mmap load', async (t) => {
    const model = synthModel({ users: 30, items: 70, rank: 5, seed: 9 });
    const update = await publishSynth(tempDir(t), 'm', { users: 30, items: 70, rank: 5, seed: 9 });
    const s = await loadBundle('m', update.updateId, update.dir, { verifyChecksums: true });
    assert.equal(s.version, update.updateId);
    assert.deepEqual([s.rank, s.numUsers, s.numItems], [5, 30, 70]);
    assert.deepEqual(s.userFactors, model.users.factors);
    assert.deepEqual(s.itemFactors, model.items.factors);
    assert.deepEqual(s.itemIds, model.items.ids);
    assert.ok(Object.isFrozen(s));
    // Views start at offset 0 of their own mapping: aligned for Float32Array.
    assert.equal(s.itemFactors.byteOffset % 4, 0);
    const manifest = JSON.parse(readFileSync(path.join(update.dir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.format, 'recserve-als-bundle');
    assert.equal(manifest.files.itemFactors.bytes, 70 * 5 * 4);
  });

  it('synth is deterministic for a seed and differs across seeds', () => {
    const a = synthModel({ users: 3, items: 4, rank: 2, seed: 5 });
    assert.deepEqual(a, synthModel({ users: 3, items: 4, rank: 2, seed: 5 }));
    assert.notDeepEqual(a.items.factors, synthModel({ users: 3, items: 4, rank: 2, seed: 6 }).items.factors);
  });

  it('rejects a truncated factor matrix', async (t) => {
    const { dir } = await publishSynth(tempDir(t), 'm');
    const file = path.join(dir, BUNDLE_FILES.itemFactors);
    truncateSync(file, statSync(file).size - 4);
    await assertBundleRejected(dir, /item-factors\.f32 has 6396 bytes; the manifest \(rank 8, 50 users, 200 items\) needs 6400/);
  });

  it('rejects a matrix longer than the manifest says', async (t) => {
    const { dir } = await publishSynth(tempDir(t), 'm');
    appendFileSync(path.join(dir, BUNDLE_FILES.userFactors), Buffer.alloc(4));
    await assertBundleRejected(dir, /user-factors\.f32 has 1604 bytes/);
  });

  it('rejects a checksum mismatch', async (t) => {
    const { dir } = await publishSynth(tempDir(t), 'm');
    const fd = openSync(path.join(dir, BUNDLE_FILES.itemFactors), 'r+');
    writeSync(fd, Buffer.from(new Float32Array([1.5]).buffer), 0, 4, 0);
    closeSync(fd);
    await assertBundleRejected(dir, /item-factors\.f32 sha256 [0-9a-f]{64} does not match the manifest/);
  });

  it('rejects NaN factors even when the checksum matches', async (t) => {
    const { dir } = await publishSynth(tempDir(t), 'm');
    const manifestFile = path.join(dir, 'manifest.json');
    const file = path.join(dir, BUNDLE_FILES.userFactors);
    const data = readFileSync(file);
    data.writeFloatLE(Number.NaN, 4 * 8 * 3);
    writeFileSync(file, data);
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    manifest.files.userFactors.sha256 = (await import('node:crypto')).createHash('sha256').update(data).digest('hex');
    writeFileSync(manifestFile, JSON.stringify(manifest));
    // The addon's check when it is built, and the TypeScript one every machine without it runs.
    await assertBundleRejected(dir, /user factors hold a non-finite value at row 3/);
    await assertBundleRejected(dir, /user factors hold a non-finite value at row 3/, true, false);
  });

  it('rejects a malformed or missing manifest, naming the field', async (t) => {
    const { dir } = await publishSynth(tempDir(t), 'm');
    const manifestFile = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, rank: 0 }));
    await assertBundleRejected(dir, /manifest\.json: rank must be >= 1/);
    writeFileSync(manifestFile, '{"format": ');
    await assertBundleRejected(dir, /manifest\.json: not valid JSON/);
    rmSync(manifestFile);
    await assertBundleRejected(dir, /cannot read manifest\.json/);
  });

  it('rejects a wrong rank (sizes no longer match)', async (t) => {
    const { dir } = await publishSynth(tempDir(t), 'm');
    const manifestFile = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, rank: 4 }));
    await assertBundleRejected(dir, /the manifest \(rank 4, 50 users, 200 items\) needs/);
  });

  it('rejects unsorted item ids, even without checksum verification', async (t) => {
    const { dir } = await publishSynth(tempDir(t), 'm');
    const file = path.join(dir, BUNDLE_FILES.itemIds);
    const ids = readFileSync(file);
    ids.writeInt32LE(5, 0);
    writeFileSync(file, ids);
    await assertBundleRejected(dir, /item ids are not sorted and unique at row 1 \(id 1\)/, false);
  });
});

describe('sha256 of data files', () => {
  it('gives the same digests on a worker thread as in line, for empty and multi-chunk files, and fails on a missing one', async (t) => {
    const dir = tempDir(t);
    const contents = [Buffer.alloc(0), Buffer.from('recserve'), Buffer.alloc(9 * 2 ** 20 + 3, 7)];
    const files = contents.map((data, i) => {
      const file = path.join(dir, `f${i}`);
      writeFileSync(file, data);
      return { file, data };
    });
    const expected = contents.map((c) => createHash('sha256').update(c).digest('hex'));
    assert.deepEqual(await sha256Files(files), expected);
    assert.deepEqual(await sha256Files(files, 0), expected);
    await assert.rejects(sha256Files([{ file: path.join(dir, 'missing'), data: Buffer.alloc(1) }], 0));
  });
});

describe('int8 item codes', () => {
  for (const nativeChecks of [true, false]) {
    it(`are written on request, mapped, and reproduce each factor within half its row scale (${nativeChecks ? 'addon' : 'TypeScript'} checks)`, async (t) => {
      const model = synthModel({ users: 10, items: 120, rank: 7, seed: 4 });
      const update = await publishSynth(tempDir(t), 'm', { users: 10, items: 120, rank: 7, seed: 4, itemEncoding: 'int8' });
      const s = await loadBundle('m', update.updateId, update.dir, { verifyChecksums: true, nativeChecks });
      assert.equal(s.itemEncoding, 'int8');
      const { codes, scales, offsets } = s.itemCodes!;
      assert.equal(codes.length, 120 * 7);
      // The bundle's offsets file holds 128 · Σ codes (its format since 8-bit user codes); the scans use 64 · Σ codes.
      const raw = readFileSync(path.join(update.dir, 'item-code-offsets.i32'));
      const fileOffsets = new Int32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      for (let i = 0; i < 120; i++) {
        let sum = 0;
        let largest = 0;
        for (let j = 0; j < 7; j++) {
          const code = codes[j * 120 + i]!;
          const factor = model.items.factors[i * 7 + j]!;
          assert.ok(Math.abs(code * scales[i]! - factor) <= scales[i]! / 2 + 1e-7, `item ${i} dim ${j}`);
          sum += code;
          largest = Math.max(largest, Math.abs(code));
        }
        // The largest magnitude of each row maps to ±127: the row's full int8 range is used.
        assert.equal(largest, 127);
        assert.equal(fileOffsets[i], 128 * sum);
        assert.equal(offsets[i], 64 * sum);
      }
      // float32 bundles carry no codes.
      const plain = await publishSynth(tempDir(t), 'm');
      const p = await loadBundle('m', plain.updateId, plain.dir);
      assert.deepEqual([p.itemEncoding, p.itemCodes], ['float32', null]);
    });
  }

  /** Rewrites one int8 file of a fresh bundle (and its checksum, so only the content check can catch it). */
  async function tamper(t: { after(fn: () => void): void }, file: string, change: (data: Buffer) => void): Promise<string> {
    const { dir } = await publishSynth(tempDir(t), 'm', { itemEncoding: 'int8' });
    const data = readFileSync(path.join(dir, file));
    change(data);
    writeFileSync(path.join(dir, file), data);
    const manifestFile = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    const role = Object.entries(BUNDLE_FILES).find(([, name]) => name === file)![0];
    manifest.files[role].sha256 = (await import('node:crypto')).createHash('sha256').update(data).digest('hex');
    writeFileSync(manifestFile, JSON.stringify(manifest));
    return dir;
  }

  it('rejects a negative or NaN scale and offsets that do not match the codes', async (t) => {
    await assertBundleRejected(await tamper(t, BUNDLE_FILES.itemScales, (d) => d.writeFloatLE(-1, 4 * 9)), /item scale of row 9 is -1/);
    await assertBundleRejected(await tamper(t, BUNDLE_FILES.itemScales, (d) => d.writeFloatLE(Number.NaN, 0)), /item scale of row 0 is NaN/);
    const flipped = await tamper(t, BUNDLE_FILES.itemCodes, (d) => d.writeInt8(d.readInt8(200 * 2 + 5) === 0 ? 1 : 0, 200 * 2 + 5));
    for (const nativeChecks of [true, false]) await assertBundleRejected(flipped, /item code offset of row 5 is -?\d+; its codes need -?\d+/, true, nativeChecks);
  });

  it('rejects missing or short code files and a manifest that promises codes it does not list', async (t) => {
    const short = await publishSynth(tempDir(t), 'm', { itemEncoding: 'int8' });
    truncateSync(path.join(short.dir, BUNDLE_FILES.itemCodes), 100);
    await assertBundleRejected(short.dir, /item-codes\.i8 has 100 bytes; the manifest \(rank 8, 50 users, 200 items\) needs 1600/);
    const missing = await publishSynth(tempDir(t), 'm', { itemEncoding: 'int8' });
    rmSync(path.join(missing.dir, BUNDLE_FILES.itemScales));
    await assertBundleRejected(missing.dir, /item-scales\.f32 is missing/);
    const unlisted = await publishSynth(tempDir(t), 'm', { itemEncoding: 'int8' });
    const manifestFile = path.join(unlisted.dir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    delete manifest.files.itemCodeOffsets;
    writeFileSync(manifestFile, JSON.stringify(manifest));
    await assertBundleRejected(unlisted.dir, /\/files\/itemCodeOffsets is required with itemEncoding int8/);
  });
});
