import assert from 'node:assert/strict';
import { rmSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ModelStore } from '../../src/model-store/store.js';
import { BUNDLE_FILES } from '../../src/model-store/manifest.js';
import { silentLogger, tempDir } from '../helpers/fixtures.js';
import { publishSynth } from '../helpers/synth-feed.js';

function store(feedRoot: string, names: string[]) {
  return new ModelStore(names.map((name) => ({ name, feedRoot })), { logger: silentLogger, verifyChecksums: true });
}

describe('model store', () => {
  it('serves the newest complete update and is ready once every model is loaded', async (t) => {
    const feed = tempDir(t);
    await publishSynth(feed, 'a', { seed: 1 });
    const newest = await publishSynth(feed, 'a', { seed: 2 });
    const incomplete = await publishSynth(feed, 'a', { seed: 3 });
    rmSync(path.join(incomplete.dir, '_SUCCESS'));
    await publishSynth(feed, 'b');
    const s = store(feed, ['a', 'b']);
    assert.equal(s.ready, false);
    await s.loadAll();
    assert.equal(s.ready, true);
    assert.equal(s.get('a')!.version, newest.updateId);
  });

  it('skips a bad newest update and keeps serving the good one', async (t) => {
    const feed = tempDir(t);
    const good = await publishSynth(feed, 'a', { seed: 1 });
    const bad = await publishSynth(feed, 'a', { seed: 2 });
    truncateSync(path.join(bad.dir, BUNDLE_FILES.itemFactors), 10);
    const s = store(feed, ['a']);
    await s.loadAll();
    assert.equal(s.get('a')!.version, good.updateId);
    const [status] = s.status();
    assert.equal(status!.version, good.updateId);
    assert.match(status!.lastError!, /item-factors\.f32 has 10 bytes/);
  });

  it('is not ready while a model has no loadable update, and says why', async (t) => {
    const feed = tempDir(t);
    await publishSynth(feed, 'a');
    const s = store(feed, ['a', 'missing']);
    await s.loadAll();
    assert.equal(s.ready, false);
    assert.equal(s.get('missing'), undefined);
    assert.match(s.status()[1]!.lastError!, /no complete update under .*missing\/v1/);
  });

  it('hands out immutable snapshots: a newer load does not change one already taken', async (t) => {
    const feed = tempDir(t);
    const first = await publishSynth(feed, 'a', { seed: 1 });
    const s = store(feed, ['a']);
    await s.loadAll();
    const taken = s.get('a')!;
    const second = await publishSynth(feed, 'a', { seed: 2 });
    await s.refresh('a');
    assert.equal(taken.version, first.updateId);
    assert.equal(s.get('a')!.version, second.updateId);
    assert.ok(taken.kind === 'als' && s.get('a')!.kind === 'als');
    assert.notDeepEqual(taken.itemFactors, (s.get('a') as typeof taken).itemFactors);
  });
});
