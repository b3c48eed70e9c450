import assert from 'node:assert/strict';
import { readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadBundle } from '../../src/model-store/bundle-loader.js';
import { VerifiedDigests } from '../../src/model-store/verified-digests.js';
import { tempDir } from '../helpers/fixtures.js';
import { publishSynth } from '../helpers/synth-feed.js';

/** A fixed modification time, so a rewritten file can be given back exactly the same one. */
const MTIME = new Date(1_700_000_000_000);

/** Flips the lowest mantissa bit of the first item factor: still finite, so only a checksum can tell. */
function flipFirstItemFactor(file: string): void {
  const bytes = readFileSync(file);
  bytes[0]! ^= 1;
  writeFileSync(file, bytes);
}

describe('verified digests', () => {
  it('are recorded at load and reused while each file keeps its device, inode, size and mtime', async (t) => {
    const update = await publishSynth(tempDir(t), 'm', { users: 10, items: 200, rank: 8, seed: 3 });
    const itemFile = path.join(update.dir, 'item-factors.f32');
    for (const f of readdirSync(update.dir)) utimesSync(path.join(update.dir, f), MTIME, MTIME);
    const records = tempDir(t);
    const verified = new VerifiedDigests(records);
    const load = () => loadBundle('m', update.updateId, update.dir, { verifyChecksums: true, verifiedDigests: verified });

    const first = await load();
    assert.equal(readdirSync(records).length, 4, 'one record per data file');
    const original = first.itemFactors[0];

    // Rewritten in place with the same size and mtime: the same identity, so the record is trusted.
    flipFirstItemFactor(itemFile);
    utimesSync(itemFile, MTIME, MTIME);
    const trusted = await load();
    assert.notEqual(trusted.itemFactors[0], original);

    // Any change of identity (here the mtime) makes the load hash the file again, and refuse it.
    utimesSync(itemFile, MTIME, new Date(MTIME.getTime() + 1000));
    await assert.rejects(load(), /item-factors\.f32 sha256 [0-9a-f]{64} does not match the manifest/);
    // Without a record every load hashes.
    await assert.rejects(loadBundle('m', update.updateId, update.dir, { verifyChecksums: true }), /does not match the manifest/);
  });

  it('ignore a record whose digest is not the manifest\'s, and a record store that cannot be written', async (t) => {
    const update = await publishSynth(tempDir(t), 'm', { users: 10, items: 200, rank: 8, seed: 4 });
    const records = tempDir(t);
    const verified = new VerifiedDigests(records);
    await loadBundle('m', update.updateId, update.dir, { verifyChecksums: true, verifiedDigests: verified });
    for (const f of readdirSync(records)) {
      const file = path.join(records, f);
      writeFileSync(file, readFileSync(file, 'utf8').replace(/"sha256":"[0-9a-f]/, '"sha256":"x'));
    }
    // The records now disagree with the manifest: every file is hashed, and the load succeeds.
    await loadBundle('m', update.updateId, update.dir, { verifyChecksums: true, verifiedDigests: verified });
    const unwritable = new VerifiedDigests(path.join(update.dir, 'manifest.json', 'no'));
    await loadBundle('m', update.updateId, update.dir, { verifyChecksums: true, verifiedDigests: unwritable });
  });
});
