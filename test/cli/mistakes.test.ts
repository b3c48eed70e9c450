// A user's mistake at the command line costs one line on stderr and exit 1, never a stack trace.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { EXPLICIT_FIXTURE, fixturePath, REPO_ROOT, tempDir } from '../helpers/fixtures.js';
import { stageUpdate } from '../helpers/feed-staging.js';

/** Exit 1 with one line on stderr matching `message`, and nothing that looks like a stack. */
function assertOneLineFailure(result: { code: number | null; stderr: string }, message: RegExp): void {
  assert.equal(result.code, 1, result.stderr);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${result.stderr}`);
  assert.match(lines[0]!, /^recserve: /);
  assert.match(lines[0]!, message);
  assert.doesNotMatch(result.stderr, /\n\s+at |ENOENT:/);
}

describe('CLI mistakes', () => {
  it('--version prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await runCli(['--version']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout.trim(), version);
  });

  it('import-spark of a folder that does not exist, or of a file', async (t) => {
    const feed = tempDir(t);
    assertOneLineFailure(await runCli(['import-spark', '/nope/save', '--feed', feed, '--name', 'x']), /not_als_model: \/nope\/save does not exist/);
    const file = path.join(feed, 'file.txt');
    writeFileSync(file, 'x');
    assertOneLineFailure(await runCli(['import-spark', file, '--feed', feed, '--name', 'x']), /is a file, not the folder of a Spark ALSModel save/);
  });

  it('import-spark with a bad training flag or an estimator folder that is not one', async (t) => {
    const feed = tempDir(t);
    // An invalid argument is a usage error: the reason, then the command's help (as for every option).
    const badFlag = await runCli(['import-spark', fixturePath(EXPLICIT_FIXTURE), '--feed', feed, '--name', 'x', '--alpha', '-1']);
    assert.equal(badFlag.code, 1);
    assert.match(badFlag.stderr.split('\n')[0]!, /--alpha <x>' argument '-1' is invalid\. must be a number >= 0/);
    assertOneLineFailure(await runCli(['import-spark', fixturePath(EXPLICIT_FIXTURE), '--feed', feed, '--name', 'x', '--estimator', feed]), /bad_training_params: .* is not a Spark ALS estimator save/);
  });

  it('feed prune of a model the feed does not have, or of a feed that does not exist', async (t) => {
    const feed = tempDir(t);
    await stageUpdate(feed, 'als', { seed: 1 });
    assertOneLineFailure(await runCli(['feed', 'prune', '--feed', feed, '--name', 'typo', '--keep', '1']), /feed_invalid: no model "typo" in .* \(it has als\)/);
    assertOneLineFailure(await runCli(['feed', 'prune', '--feed', path.join(feed, 'nope'), '--name', 'als', '--keep', '1']), /feed root .*nope does not exist/);
  });

  it('bucket: a missing input file, an empty id; blank lines are not ids', async (t) => {
    const dir = tempDir(t);
    const args = ['bucket', '--salt', 's', '--variants', 'a:50,b:50'];
    assertOneLineFailure(await runCli([...args, '--input', path.join(dir, 'missing.csv')]), /--input .*missing\.csv does not exist/);
    const blank = path.join(dir, 'blank.csv');
    writeFileSync(blank, 'user_id\n1\n2\n\n3\n\n\n');
    const ok = await runCli([...args, '--input', blank]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(ok.stdout.trim().split('\n').map((l) => l.split(',')[0]), ['user_id', '1', '2', '3']);
    const empty = path.join(dir, 'empty.csv');
    writeFileSync(empty, 'user_id,country\n1,de\n,fr\n');
    assertOneLineFailure(await runCli([...args, '--input', empty]), /record 2 has an empty user_id/);
  });
});
