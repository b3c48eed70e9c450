import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, truncateSync, writeFileSync, statSync, cpSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { modelFeedDir, nextUpdateId } from '../../src/model-store/feed.js';
import { BUNDLE_FILES } from '../../src/model-store/manifest.js';
import { editManifest, stageUpdate } from '../helpers/feed-staging.js';
import { EXPLICIT_FIXTURE, fixturePath, tempDir } from '../helpers/fixtures.js';
import { collectGarbage } from '../helpers/gc.js';
import { servingStack } from '../helpers/serving.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A serving stack that follows its feed (poll every 200 ms plus file events). */
async function followingStack(t: { after(fn: () => void): void }, feed: string, settings: Record<string, unknown> = {}, adminToken?: string) {
  const stack = await servingStack(feed, ['als'], undefined, { reload: { pollIntervalMs: 200 }, ...settings }, adminToken);
  t.after(() => stack.close());
  await stack.store.loadAll();
  stack.watcher.start();
  return stack;
}

const BAD_UPDATES: [string, (dir: string) => void][] = [
  ['truncated matrix', (dir) => truncateSync(path.join(dir, BUNDLE_FILES.itemFactors), statSync(path.join(dir, BUNDLE_FILES.itemFactors)).size - 8)],
  [
    'NaN in factors (checksum updated to match)',
    (dir) => {
      const file = path.join(dir, BUNDLE_FILES.itemFactors);
      const data = readFileSync(file);
      data.writeFloatLE(Number.NaN, 40);
      writeFileSync(file, data);
      editManifest(dir, (m) => (m.files.itemFactors!.sha256 = createHash('sha256').update(data).digest('hex')));
    },
  ],
  ['wrong rank', (dir) => editManifest(dir, (m) => (m.rank = 9))],
  ['malformed manifest', (dir) => writeFileSync(path.join(dir, 'manifest.json'), '{"format": "recserve-als-bundle", ')],
  [
    'checksum mismatch',
    (dir) => {
      const file = path.join(dir, BUNDLE_FILES.userFactors);
      const data = readFileSync(file);
      data[3] = data[3]! ^ 0xff;
      writeFileSync(file, data);
    },
  ],
];

describe('hot reload', () => {
  it('under a continuous request loop: 5 good updates served within 2 s each, 6 bad ones never served, zero non-2xx', { timeout: 120_000 }, async (t) => {
    const feed = tempDir(t);
    const good = [await stageUpdate(feed, 'als', { seed: 100 })];
    const stack = await followingStack(t, feed);
    const statuses = new Map<number, number>();
    const versions = new Set<string>();
    let running = true;
    const loop = (async () => {
      for (let i = 0; running; i++) {
        const res = await stack.app.inject({ method: 'GET', url: `/recommend/${i % 50}?n=5` });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        versions.add(res.headers['x-recserve-model-version'] as string);
        if (i % 20 === 0) await sleep(1);
      }
    })();
    const bad: string[] = [];
    const servedWithin: number[] = [];
    for (let k = 0; k < 5; k++) {
      const [label, damage] = BAD_UPDATES[k]!;
      const badId = await stageUpdate(feed, 'als', { seed: 200 + k, damage });
      bad.push(badId);
      await sleep(300);
      assert.equal(stack.store.get('als')!.version, good.at(-1), `${label}: the good update keeps serving`);
      const id = await stageUpdate(feed, 'als', { seed: 300 + k });
      const published = performance.now();
      while (stack.store.get('als')!.version !== id && performance.now() - published < 60_000) await sleep(10);
      servedWithin.push(performance.now() - published);
      assert.equal(stack.store.get('als')!.version, id, `good update ${k + 1} is served`);
      good.push(id);
    }
    // The sixth bad update never completes: no _SUCCESS, so it is not even a candidate.
    const incomplete = await stageUpdate(feed, 'als', { seed: 400, complete: false });
    await sleep(500);
    running = false;
    await loop;
    assert.deepEqual([...statuses.keys()], [200], `statuses seen: ${JSON.stringify([...statuses])}`);
    t.diagnostic(`good updates served ${servedWithin.map((ms) => ms.toFixed(0)).join(', ')} ms after their _SUCCESS; ${[...statuses.values()].reduce((a, b) => a + b, 0)} requests, all 200`);
    for (const id of [...bad, incomplete]) assert.ok(!versions.has(id), `bad update ${id} was served`);
    assert.equal(stack.store.get('als')!.version, good.at(-1));
    const admin = await stack.store.adminStatus();
    assert.deepEqual(admin[0]!.rejected.map((r) => r.version), bad);
    assert.match(admin[0]!.rejected[0]!.reason, /item-factors\.f32 has \d+ bytes/);
    assert.match(admin[0]!.rejected[1]!.reason, /non-finite value/);
    assert.match(admin[0]!.rejected[3]!.reason, /not valid JSON/);
    assert.match(admin[0]!.rejected[4]!.reason, /sha256/);
    const metrics = (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /recserve_model_loads_total\{model="als",result="rejected"\} 5/);
    assert.match(metrics, /recserve_model_loads_total\{model="als",result="loaded"\} 6/);
    assert.match(metrics, new RegExp(`recserve_model_info\\{model="als",version="${good.at(-1)}"\\} 1`));
  });

  it('does not retry a rejected update, and never goes back to an older one on its own', async (t) => {
    const feed = tempDir(t);
    const first = await stageUpdate(feed, 'als', { seed: 1 });
    const stack = await followingStack(t, feed, { reload: { pollIntervalMs: 0, watchEvents: false } });
    const badId = await stageUpdate(feed, 'als', { seed: 2, damage: BAD_UPDATES[0]![1] });
    await stack.store.refresh('als');
    await stack.store.refresh('als');
    assert.equal(stack.store.get('als')!.version, first);
    const metrics = (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /recserve_model_loads_total\{model="als",result="rejected"\} 1/, `${badId} tried once`);
  });

  it('serves a raw Spark save published into the feed, imported once into the cache', async (t) => {
    const feed = tempDir(t);
    const cache = tempDir(t);
    await stageUpdate(feed, 'als', { seed: 1 });
    const stack = await followingStack(t, feed, { reload: { pollIntervalMs: 200, sparkCacheDir: cache } });
    // As a Spark job would: model.write().save(f"{feed}/als/v1/{ts}"), then an empty _SUCCESS.
    const id = await nextUpdateId(feed, 'als');
    const target = path.join(modelFeedDir(feed, 'als'), id);
    cpSync(fixturePath(EXPLICIT_FIXTURE), target, { recursive: true });
    writeFileSync(path.join(target, '_SUCCESS'), '');
    const deadline = Date.now() + 10_000;
    while (stack.store.get('als')!.version !== id && Date.now() < deadline) await sleep(20);
    const res = await stack.app.inject({ method: 'GET', url: '/recommend/196?n=3' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-recserve-model-version'], id);
    assert.equal((res.json() as { items: unknown[] }).items.length, 3);
    assert.ok(existsSync(path.join(cache, 'als', id, '_SUCCESS')), 'imported into the cache folder');
    const models = (await stack.app.inject({ method: 'GET', url: '/models' })).json() as { models: { numUsers: number; rank: number }[] };
    assert.deepEqual([models.models[0]!.numUsers, models.models[0]!.rank], [300, 10]);
  });

  it('rejects a raw Spark save whose part file has a flipped bit, and keeps serving the good model', async (t) => {
    const feed = tempDir(t);
    const first = await stageUpdate(feed, 'als', { seed: 1 });
    const stack = await followingStack(t, feed, { reload: { pollIntervalMs: 0, watchEvents: false, sparkCacheDir: tempDir(t) } });
    const id = await nextUpdateId(feed, 'als');
    const target = path.join(modelFeedDir(feed, 'als'), id);
    cpSync(fixturePath(EXPLICIT_FIXTURE), target, { recursive: true });
    const part = readdirSync(path.join(target, 'itemFactors')).find((n) => n.endsWith('.parquet') && !n.startsWith('.'))!;
    const file = path.join(target, 'itemFactors', part);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
    writeFileSync(file, bytes);
    writeFileSync(path.join(target, '_SUCCESS'), '');
    await stack.store.refresh('als');
    assert.equal(stack.store.get('als')!.version, first);
    const admin = (await stack.store.adminStatus())[0]!;
    assert.match(JSON.stringify(admin), new RegExp(`checksum_mismatch.*${part.replace(/\./g, '\\.')}`));
  });

  it('100 reloads in a row leak neither file descriptors nor memory', { timeout: 120_000 }, async (t) => {
    const feed = tempDir(t);
    const shape = { users: 100, items: 20_000, rank: 32 };
    await stageUpdate(feed, 'als', { seed: 0, shape });
    const stack = await followingStack(t, feed, { reload: { pollIntervalMs: 0, watchEvents: false } });
    const fds = () => readdirSync('/proc/self/fd').length;
    const reload = async (seed: number) => {
      const id = await stageUpdate(feed, 'als', { seed, shape });
      await stack.store.refresh('als');
      assert.equal(stack.store.get('als')!.version, id);
      await stack.app.inject({ method: 'GET', url: '/recommend/1' });
    };
    for (let i = 1; i <= 10; i++) await reload(i);
    // Collected before each reading: the growth is then what the reloads hold, not how long ago V8 collected
    // (on a loaded machine, 65 MB of old snapshots once waited for a collection here).
    await collectGarbage();
    const fdsBefore = fds();
    const rssBefore = process.memoryUsage().rss;
    for (let i = 11; i <= 110; i++) await reload(i);
    await collectGarbage();
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    const matrixMb = (shape.items * shape.rank * 4) / 2 ** 20;
    t.diagnostic(`100 reloads of a ${matrixMb.toFixed(1)} MB item matrix: open fds ${fdsBefore} -> ${fds()}, RSS +${rssGrowthMb.toFixed(1)} MB`);
    assert.ok(fds() <= fdsBefore + 2, `open fds grew from ${fdsBefore} to ${fds()}`);
    assert.ok(rssGrowthMb < 20 * matrixMb, `RSS grew by ${rssGrowthMb.toFixed(1)} MB over 100 reloads of ${matrixMb.toFixed(1)} MB matrices`);
  });
});
