import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { modelFeedDir, updateIdFor } from '../../src/model-store/feed.js';
import { runCli } from '../helpers/cli.js';
import { stageUpdate } from '../helpers/feed-staging.js';
import { tempDir } from '../helpers/fixtures.js';

describe('recserve feed prune', () => {
  it('keeps the newest N complete updates, deletes older ones and abandoned folders, leaves young incomplete ones alone', async (t) => {
    const feed = tempDir(t);
    const complete = [];
    for (let seed = 1; seed <= 4; seed++) complete.push(await stageUpdate(feed, 'als', { seed, shape: { users: 5, items: 5, rank: 2 } }));
    const dir = modelFeedDir(feed, 'als');
    const young = await stageUpdate(feed, 'als', { seed: 9, complete: false, shape: { users: 5, items: 5, rank: 2 } });
    const abandoned = updateIdFor(new Date(Date.now() - 3 * 3600_000));
    mkdirSync(path.join(dir, abandoned));
    const oldTmp = path.join(dir, '.tmp-1-dead');
    mkdirSync(oldTmp);
    const hoursAgo = new Date(Date.now() - 3 * 3600_000);
    utimesSync(path.join(dir, abandoned), hoursAgo, hoursAgo);
    utimesSync(oldTmp, hoursAgo, hoursAgo);

    const result = await runCli(['feed', 'prune', '--feed', feed, '--name', 'als', '--keep', '2', '--grace', '3600']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /kept 2 .*deleted 4 .*left 1 incomplete younger than 3600 s/);
    assert.deepEqual(readdirSync(dir).sort(), [...complete.slice(2), young].sort());
  });

  it('rejects a --keep that is not a positive integer', async () => {
    const result = await runCli(['feed', 'prune', '--feed', '/tmp', '--name', 'x', '--keep', '0']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /--keep <N>' argument '0' is invalid/);
  });
});
