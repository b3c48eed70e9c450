import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { listUpdates } from '../../src/model-store/feed.js';
import { EXPLICIT_FIXTURE, fixturePath, HASHED_FIXTURE, REPO_ROOT, tempDir } from '../helpers/fixtures.js';
import { servingStack } from '../helpers/serving.js';
import { linearTanhModel } from '../helpers/onnx-models.js';
import { runCli, startCli, waitFor } from '../helpers/cli.js';

describe('recserve CLI', () => {
  it('synth writes a new feed update on every call', async (t) => {
    const feed = tempDir(t);
    const args = ['synth', '--users', '20', '--items', '30', '--rank', '4', '--seed', '7', '--feed', feed, '--name', 'syn'];
    const first = await runCli(args);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /wrote 20 users x 30 items, rank 4, items float32 -> /);
    assert.equal((await runCli(args)).code, 0);
    const updates = await listUpdates(feed, 'syn');
    assert.equal(updates.length, 2);
    assert.ok(updates.every((u) => u.complete));
    const manifest = JSON.parse(readFileSync(path.join(updates[0]!.dir, 'manifest.json'), 'utf8'));
    assert.deepEqual([manifest.numUsers, manifest.numItems, manifest.rank], [20, 30, 4]);
  });

  it('synth and import-spark write int8 item codes on request and refuse an unknown encoding', async (t) => {
    const feed = tempDir(t);
    const synth = await runCli(['synth', '--users', '5', '--items', '9', '--rank', '3', '--feed', feed, '--name', 'q', '--item-encoding', 'int8']);
    assert.equal(synth.code, 0, synth.stderr);
    assert.match(synth.stdout, /rank 3, items int8 -> /);
    const imported = await runCli(['import-spark', fixturePath(HASHED_FIXTURE), '--feed', feed, '--name', 'q', '--item-encoding', 'int8']);
    assert.equal(imported.code, 0, imported.stderr);
    for (const update of await listUpdates(feed, 'q')) {
      const manifest = JSON.parse(readFileSync(path.join(update.dir, 'manifest.json'), 'utf8'));
      assert.equal(manifest.itemEncoding, 'int8');
      assert.equal(manifest.files.itemCodes.bytes, manifest.numItems * manifest.rank);
    }
    const refused = await runCli(['synth', '--users', '5', '--items', '9', '--rank', '3', '--feed', feed, '--name', 'q', '--item-encoding', 'fp8']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /argument 'fp8' is invalid\. Allowed choices are float32, int8/);
  });

  it('synth rejects a non-numeric size', async () => {
    const result = await runCli(['synth', '--users', 'many', '--items', '3', '--rank', '2', '--feed', '/tmp', '--name', 'x']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /--users <U>' argument 'many' is invalid\. must be a positive integer/);
  });

  it('import-spark imports a real save and reports its shape', async (t) => {
    const feed = tempDir(t);
    const result = await runCli(['import-spark', fixturePath(EXPLICIT_FIXTURE), '--feed', feed, '--name', 'ml']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /300 users x 500 items, rank 10, items float32, fold-in with regParam 0\.1 -> /);
    assert.equal((await listUpdates(feed, 'ml')).length, 1);
    // Flags stand in for an estimator save.
    const flagged = await runCli(['import-spark', fixturePath(EXPLICIT_FIXTURE), '--feed', feed, '--name', 'ml', '--reg-param', '0.5', '--implicit-prefs', '--alpha', '4']);
    assert.equal(flagged.code, 0, flagged.stderr);
    assert.match(flagged.stdout, /fold-in with regParam 0\.5, implicit \(alpha 4\) -> /);
  });

  it('import-spark exits non-zero with the code and the path of a bad save', async (t) => {
    const notASave = tempDir(t);
    const result = await runCli(['import-spark', notASave, '--feed', tempDir(t), '--name', 'x']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`recserve: not_als_model: ${notASave} is not a Spark ALSModel save`));
  });

  it('serve answers on a feed given by flags, then exits 0 on SIGTERM', async (t) => {
    const feed = tempDir(t);
    assert.equal((await runCli(['synth', '--users', '5', '--items', '50', '--rank', '3', '--feed', feed, '--name', 'm'])).code, 0);
    const { child, baseUrl } = await startCli(['--feed', feed, '--model', 'm', '--port', '0', '--host', '127.0.0.1']);
    t.after(() => child.kill('SIGKILL'));
    await waitFor(async () => (await fetch(`${baseUrl}/readyz`)).status === 200);
    const res = await fetch(`${baseUrl}/recommend/4?n=3`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { items: unknown[]; model: { name: string } };
    assert.equal(body.items.length, 3);
    assert.equal(body.model.name, 'm');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });

  it('serve stops at start-up on an invalid config file, naming the file and field', async (t) => {
    const file = path.join(tempDir(t), 'bad.yaml');
    writeFileSync(file, 'models: [{name: a}]\nport: -1\n');
    const result = await runCli(['serve', '--config', file]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`recserve: config_invalid: ${file}: field port must be >= 0`));
  });

  it('publish-onnx publishes a graph that keeps the contract and refuses one that does not', async (t) => {
    const dir = tempDir(t);
    const good = path.join(dir, 'good.onnx');
    const bad = path.join(dir, 'bad.onnx');
    writeFileSync(good, linearTanhModel(new Float32Array(3 * 4), new Float32Array(4), 3));
    writeFileSync(bad, linearTanhModel(new Float32Array(3 * 4), new Float32Array(4), 3, 'x', 'y'));
    const ok = await runCli(['publish-onnx', good, '--feed', dir, '--name', 'net']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /published .*good\.onnx \(user rank 3\) -> /);
    const refused = await runCli(['publish-onnx', bad, '--feed', dir, '--name', 'net']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /bundle_invalid: .*bad\.onnx: the graph must take a float32 input "user"/);
    assert.equal((await listUpdates(dir, 'net')).length, 1);
  });

  it('users prints an evenly spread JSON sample of user ids for load tests', async () => {
    const result = await runCli(['users', '--feed', path.join(REPO_ROOT, 'models'), '--name', 'demo', '--sample', '4']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), ['0', '250', '500', '750']);
    const items = await runCli(['users', '--feed', path.join(REPO_ROOT, 'models'), '--name', 'demo', '--sample', '4', '--items']);
    assert.deepEqual(JSON.parse(items.stdout), ['0', '1250', '2500', '3750']);
  });

  it('the embedded demo model loads and answers, as `npm start` serves it', async (t) => {
    const stack = await servingStack(path.join(REPO_ROOT, 'models'), ['demo']);
    t.after(() => stack.close());
    await stack.store.loadAll();
    assert.equal(stack.store.ready, true);
    const res = await stack.app.inject({ method: 'GET', url: '/recommend/42?n=5' });
    assert.equal(res.statusCode, 200);
    assert.equal((res.json() as { items: unknown[] }).items.length, 5);
  });
});
