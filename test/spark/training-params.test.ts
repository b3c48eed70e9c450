import assert from 'node:assert/strict';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RecserveError } from '../../src/errors.js';
import { readTrainingParams } from '../../src/spark/training-params.js';
import { fixturePath, HASHED_FIXTURE, tempDir } from '../helpers/fixtures.js';

const EXPLICIT = fixturePath('explicit-spark3.5.7-rank10');
const IMPLICIT = fixturePath('implicit-spark4.0.1-rank8');

/** The estimator folder of a save, copied, with its metadata line replaced (and its .crc gone). */
function estimatorWith(t: { after(fn: () => void): void }, line: string): string {
  const dir = path.join(tempDir(t), 'estimator');
  cpSync(path.join(EXPLICIT, 'estimator'), dir, { recursive: true });
  rmSync(path.join(dir, 'metadata', '.part-00000.crc'), { force: true });
  writeFileSync(path.join(dir, 'metadata', 'part-00000'), line);
  return dir;
}

describe('training parameters of a Spark save', () => {
  it("are read from the estimator saved inside the save: set values, then Spark's recorded defaults", async () => {
    assert.deepEqual(await readTrainingParams(EXPLICIT), { regParam: 0.1, implicitPrefs: false, alpha: 1, nonnegative: false, source: path.join(EXPLICIT, 'estimator') });
    const implicit = await readTrainingParams(IMPLICIT);
    assert.deepEqual([implicit?.regParam, implicit?.implicitPrefs, implicit?.alpha, implicit?.nonnegative], [0.05, true, 2, false]);
    const hashed = await readTrainingParams(fixturePath(HASHED_FIXTURE));
    assert.deepEqual([hashed?.implicitPrefs, hashed?.nonnegative], [true, true]);
  });

  it('come from --estimator or from flags (the rest at Spark defaults) when given, and are null when nothing says', async (t) => {
    const elsewhere = await readTrainingParams(fixturePath(HASHED_FIXTURE), { estimatorDir: path.join(IMPLICIT, 'estimator') });
    assert.equal(elsewhere?.alpha, 2);
    assert.deepEqual(await readTrainingParams(EXPLICIT, { overrides: { regParam: 0.3, nonnegative: true } }), { regParam: 0.3, implicitPrefs: false, alpha: 1, nonnegative: true, source: 'import flags' });
    const bare = path.join(tempDir(t), 'save');
    cpSync(EXPLICIT, bare, { recursive: true });
    rmSync(path.join(bare, 'estimator'), { recursive: true });
    assert.equal(await readTrainingParams(bare), null);
  });

  it('refuse an estimator save of another class, with a bad value, or flipped against its .crc', async (t) => {
    const refused = async (dir: string, message: RegExp) =>
      assert.rejects(readTrainingParams(EXPLICIT, { estimatorDir: dir }), (err: unknown) => err instanceof RecserveError && err.code === 'bad_training_params' && message.test(err.message));
    await refused(estimatorWith(t, '{"class":"org.apache.spark.ml.recommendation.ALSModel","paramMap":{}}'), /class is "org\.apache\.spark\.ml\.recommendation\.ALSModel"/);
    await refused(estimatorWith(t, '{"class":"org.apache.spark.ml.recommendation.ALS","paramMap":{"regParam":-1}}'), /regParam is -1, expected a number >= 0/);
    await refused(estimatorWith(t, '{"class":"org.apache.spark.ml.recommendation.ALS","paramMap":{"implicitPrefs":"yes"}}'), /implicitPrefs is "yes", expected true or false/);
    await refused(estimatorWith(t, 'not json'), /not a JSON metadata line/);
    await refused(path.join(tempDir(t), 'nothing'), /metadata\/part-00000 is missing/);
    const flipped = path.join(tempDir(t), 'estimator');
    cpSync(path.join(EXPLICIT, 'estimator'), flipped, { recursive: true });
    const file = path.join(flipped, 'metadata', 'part-00000');
    writeFileSync(file, (await import('node:fs')).readFileSync(file, 'utf8').replace('"regParam":0.1', '"regParam":0.2'));
    await assert.rejects(readTrainingParams(EXPLICIT, { estimatorDir: flipped }), (err: unknown) => err instanceof RecserveError && err.code === 'checksum_mismatch');
  });
});
