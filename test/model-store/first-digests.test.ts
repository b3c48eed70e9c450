import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { prefetchFirstDigests } from '../../src/model-store/first-digests.js';
import { sha256Files } from '../../src/model-store/sha256-files.js';
import { tempDir } from '../helpers/fixtures.js';
import { publishSynth } from '../helpers/synth-feed.js';

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const digestOf = async (file: string) => (await sha256Files([{ file, data: readFileSync(file) }]))[0];
const ROUND_TIME = 1_700_000_000; // seconds: a modification time that survives a round trip exactly

/** Rewrites a file in place, same size and modification time: the same identity with other contents. */
function rewriteKeepingIdentity(file: string): void {
  const bytes = readFileSync(file);
  bytes[0] = bytes[0]! ^ 0xff;
  writeFileSync(file, bytes);
  utimesSync(file, ROUND_TIME, ROUND_TIME);
}

describe('hashing the first update before the serving stack loads', () => {
  it('hashes the newest complete update (or the pinned one), and a load takes each digest once', async (t) => {
    const feed = tempDir(t);
    const first = await publishSynth(feed, 'm', { seed: 1 });
    const newest = await publishSynth(feed, 'm', { seed: 2 });
    const unfinished = await publishSynth(feed, 'm', { seed: 3 });
    rmSync(path.join(unfinished.dir, '_SUCCESS'));
    const files = (dir: string) => Object.values(newest.manifest.files).map((f) => path.join(dir, f.path)).sort();

    const pinned = await prefetchFirstDigests([{ name: 'm', feedRoot: feed, pin: first.updateId }], { minBytes: 0 });
    assert.deepEqual([...pinned.started].sort(), files(first.dir));
    await pinned.done;

    const itemFactors = path.join(newest.dir, newest.manifest.files.itemFactors.path);
    utimesSync(itemFactors, ROUND_TIME, ROUND_TIME);
    const before = sha256(itemFactors);
    const prefetched = await prefetchFirstDigests([{ name: 'm', feedRoot: feed }, { name: 'absent', feedRoot: feed }], { minBytes: 0 });
    assert.deepEqual([...prefetched.started].sort(), files(newest.dir), 'the newest complete update, nothing for a model without one');
    await prefetched.done;

    // Same identity, other bytes: the prefetched digest is what the load gets, once; then it hashes anew.
    rewriteKeepingIdentity(itemFactors);
    assert.equal(await digestOf(itemFactors), before);
    assert.equal(await digestOf(itemFactors), sha256(itemFactors));
    assert.notEqual(sha256(itemFactors), before);
  });

  it('hashes a file anew when it changed after the prefetch', async (t) => {
    const feed = tempDir(t);
    const update = await publishSynth(feed, 'm');
    const userFactors = path.join(update.dir, update.manifest.files.userFactors.path);
    await (await prefetchFirstDigests([{ name: 'm', feedRoot: feed }], { minBytes: 0 })).done;
    const bytes = readFileSync(userFactors);
    bytes[0] = bytes[0]! ^ 0xff;
    writeFileSync(userFactors, bytes);
    utimesSync(userFactors, ROUND_TIME, ROUND_TIME); // surely not the time it had
    assert.equal(await digestOf(userFactors), sha256(userFactors));
  });

  it('leaves files under the threshold to the load, which hashes them in line', async (t) => {
    const feed = tempDir(t);
    await publishSynth(feed, 'm');
    const { started } = await prefetchFirstDigests([{ name: 'm', feedRoot: feed }]);
    assert.deepEqual(started, [], 'a small synthetic model has no file of 64 MiB');
  });
});
