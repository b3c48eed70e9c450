import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadBundle } from '../../src/model-store/bundle-loader.js';
import { importSparkSave } from '../../src/spark/import.js';
import { alsMetadataFile } from '../../src/spark/als-save.js';
import { fixtureNames, fixturePath, HASHED_FIXTURE, LARGE_FIXTURE, optionalFixture, readSparkFactors, tempDir } from '../helpers/fixtures.js';

describe('import-spark on real Spark saves', () => {
  for (const fixture of fixtureNames()) {
    it(`${fixture}: every id and factor, sorted by id, with Spark's metadata`, async (t) => {
      const save = fixturePath(fixture);
      const feed = tempDir(t);
      const update = await importSparkSave(save, feed, 'als');
      assert.match(update.updateId, /^\d{8}T\d{6}Z$/);
      assert.equal(update.dir, path.join(feed, 'als', 'v1', update.updateId));
      const meta = JSON.parse(readFileSync(alsMetadataFile(save)!, 'utf8')) as { sparkVersion: string; uid: string; rank: number; paramMap: { userCol: string; itemCol: string } };
      const m = update.manifest;
      assert.equal(m.rank, meta.rank);
      assert.deepEqual(m.spark, { sparkVersion: meta.sparkVersion, uid: meta.uid, userCol: meta.paramMap.userCol, itemCol: meta.paramMap.itemCol });
      assert.equal(m.source, path.resolve(save));
      const snapshot = await loadBundle('als', update.updateId, update.dir, { verifyChecksums: true });
      for (const [folder, ids, factors] of [
        ['userFactors', snapshot.userIds, snapshot.userFactors],
        ['itemFactors', snapshot.itemIds, snapshot.itemFactors],
      ] as const) {
        const spark = await readSparkFactors(save, folder);
        assert.equal(ids.length, spark.size, `${folder}: row count`);
        assert.deepEqual([...ids], [...spark.keys()].sort((a, b) => a - b), `${folder}: ids sorted ascending`);
        ids.forEach((id, row) => assert.deepEqual(factors.subarray(row * m.rank, (row + 1) * m.rank), spark.get(id), `${folder}: factors of id ${id}`));
      }
    });
  }

  const large = optionalFixture(LARGE_FIXTURE);
  if ('skip' in large) it(`${LARGE_FIXTURE}: every id and factor`, (t) => t.skip(large.skip));

  it('keeps negative hashed ids in signed order', async (t) => {
    const update = await importSparkSave(fixturePath(HASHED_FIXTURE), tempDir(t), 'music');
    const snapshot = await loadBundle('music', update.updateId, update.dir);
    assert.ok(snapshot.itemIds[0]! < -2_000_000_000);
    assert.ok(snapshot.itemIds[snapshot.numItems - 1]! > 2_000_000_000);
  });

  it('writes each import as a new, later update with _SUCCESS last', async (t) => {
    const feed = tempDir(t);
    const first = await importSparkSave(fixturePath(HASHED_FIXTURE), feed, 'm');
    const second = await importSparkSave(fixturePath(HASHED_FIXTURE), feed, 'm');
    assert.ok(second.updateId > first.updateId);
    for (const u of [first, second]) {
      assert.equal(readFileSync(path.join(u.dir, '_SUCCESS'), 'utf8'), '');
    }
  });
});
