import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync, openSync, writeSync, closeSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { importSparkSave } from '../../src/spark/import.js';
import { RecserveError, type ErrorCode } from '../../src/errors.js';
import { EXPLICIT_FIXTURE, fixtureNames, fixturePath, LARGE_FIXTURE, tempDir } from '../helpers/fixtures.js';
import { verifyPageCrcs } from '../../src/spark/checksums.js';
import { writeSparkFactorParquet } from '../helpers/spark-parquet.js';

/**
 * A writable copy of a small real save (rank 8) to break; without Hadoop's `.crc` side files unless asked,
 * as a save copied by a tool that drops them would be, so that each test reaches the check it aims at.
 */
function copySave(t: { after(fn: () => void): void }, { keepCrc = false } = {}): string {
  const dir = path.join(tempDir(t), 'save');
  cpSync(fixturePath(EXPLICIT_FIXTURE), dir, { recursive: true, filter: (src) => keepCrc || !src.endsWith('.crc') });
  return dir;
}

function firstPart(save: string, folder: string): string {
  const name = readdirSync(path.join(save, folder)).filter((n) => n.endsWith('.parquet') && !n.startsWith('.')).sort()[0]!;
  return path.join(save, folder, name);
}

async function assertRejected(save: string, t: { after(fn: () => void): void }, code: ErrorCode, message: RegExp): Promise<void> {
  const feed = tempDir(t);
  await assert.rejects(importSparkSave(save, feed, 'als'), (err: unknown) => {
    assert.ok(err instanceof RecserveError, `expected a RecserveError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
  // Nothing half-written is left where a reader would look.
  const feedDir = path.join(feed, 'als', 'v1');
  assert.deepEqual(existsSync(feedDir) ? readdirSync(feedDir) : [], []);
}

describe('import-spark rejects bad saves with a message naming the file', () => {
  it('a folder that is not an ALSModel save', async (t) => {
    const dir = tempDir(t);
    await assertRejected(dir, t, 'not_als_model', new RegExp(`${dir}.*metadata/part-00000 is missing`));
  });

  it('a save without itemFactors', async (t) => {
    const save = copySave(t);
    rmSync(path.join(save, 'itemFactors'), { recursive: true });
    await assertRejected(save, t, 'not_als_model', /itemFactors is missing/);
  });

  it('a save of another Spark class', async (t) => {
    const save = copySave(t);
    const file = path.join(save, 'metadata', 'part-00000');
    writeFileSync(file, readFileSync(file, 'utf8').replace('org.apache.spark.ml.recommendation.ALSModel', 'org.apache.spark.ml.classification.LogisticRegressionModel'));
    await assertRejected(save, t, 'wrong_class', /metadata\/part-00000: class is "org.apache.spark.ml.classification.LogisticRegressionModel"/);
  });

  it('a row whose features are null', async (t) => {
    const save = copySave(t);
    const bad = path.join(save, 'userFactors', 'part-00099-bad.snappy.parquet');
    writeSparkFactorParquet(bad, [{ id: 100001, features: Array(10).fill(0.5) }, { id: 100002, features: null }]);
    await assertRejected(save, t, 'bad_features', /part-00099-bad\.snappy\.parquet: id 100002 has null features/);
  });

  it('a row whose features have the wrong length', async (t) => {
    const save = copySave(t);
    const bad = path.join(save, 'itemFactors', 'part-00099-bad.snappy.parquet');
    writeSparkFactorParquet(bad, [{ id: 200001, features: Array(11).fill(0.5) }]);
    await assertRejected(save, t, 'bad_features', /part-00099-bad\.snappy\.parquet: id 200001 has 11 features, the model's rank is 10/);
  });

  it('duplicate ids across part files', async (t) => {
    const save = copySave(t);
    const part = firstPart(save, 'userFactors');
    cpSync(part, path.join(save, 'userFactors', 'part-00099-copy.snappy.parquet'));
    await assertRejected(save, t, 'duplicate_id', new RegExp(`userFactors: id -?\\d+ appears more than once, in ${path.basename(part).replace(/\./g, '\\.')} and part-00099-copy\\.snappy\\.parquet`));
  });

  it('a truncated parquet file', async (t) => {
    const save = copySave(t);
    const part = firstPart(save, 'itemFactors');
    truncateSync(part, Math.floor(statSync(part).size / 2));
    await assertRejected(save, t, 'corrupt_parquet', new RegExp(`${path.basename(part).replace(/\./g, '\\.')}: truncated or corrupt parquet`));
  });

  it('a parquet file with corrupt pages', async (t) => {
    const save = copySave(t);
    const part = firstPart(save, 'itemFactors');
    // Overwrite the first page header, just after the leading PAR1 magic.
    const fd = openSync(part, 'r+');
    writeSync(fd, Buffer.alloc(64, 0xff), 0, 64, 4);
    closeSync(fd);
    await assertRejected(save, t, 'corrupt_parquet', new RegExp(`${path.basename(part).replace(/\./g, '\\.')}: truncated or corrupt parquet`));
  });

  it('a file with another schema', async (t) => {
    const save = copySave(t);
    const { parquetWriteFile } = await import('hyparquet-writer');
    parquetWriteFile({ filename: path.join(save, 'itemFactors', 'part-00099-other.snappy.parquet'), columnData: [{ name: 'name', data: ['a'], type: 'STRING' }] });
    await assertRejected(save, t, 'bad_schema', /part-00099-other\.snappy\.parquet: expected columns id: int32 and features: array<float>/);
  });
});

/** A seeded stream of offsets, so a failure names offsets that reproduce it. */
function offsets(seed: number, count: number, size: number): number[] {
  let state = seed;
  return Array.from({ length: count }, () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) % size);
}

async function importError(save: string, t: { after(fn: () => void): void }): Promise<RecserveError> {
  try {
    await importSparkSave(save, tempDir(t), 'als');
  } catch (err) {
    assert.ok(err instanceof RecserveError, `expected a RecserveError, got ${String(err)}`);
    return err;
  }
  assert.fail('the import succeeded');
}

function flipBit(file: string, offset: number): void {
  const bytes = readFileSync(file);
  bytes[offset]! ^= 1 << (offset % 8);
  writeFileSync(file, bytes);
}

describe('import-spark rejects a bit flipped anywhere in a real save', () => {
  for (const fixture of fixtureNames()) {
    // Each flip is a whole import: the 20 MB save takes fewer (the same check, about a second an import).
    const flips = fixture === LARGE_FIXTURE ? { itemFactors: 5, userFactors: 2 } : { itemFactors: 20, userFactors: 5 };
    it(`${fixture}: ${flips.itemFactors} flips in a factor file, each refused by its Hadoop .crc naming the file`, async (t) => {
      const save = path.join(tempDir(t), 'save');
      cpSync(fixturePath(fixture), save, { recursive: true });
      for (const folder of ['itemFactors', 'userFactors'] as const) {
        const part = firstPart(save, folder);
        assert.ok(existsSync(path.join(path.dirname(part), `.${path.basename(part)}.crc`)), 'Spark wrote a .crc beside the part file');
        for (const offset of offsets(fixture.length, flips[folder], statSync(part).size)) {
          flipBit(part, offset);
          const err = await importError(save, t);
          assert.equal(err.code, 'checksum_mismatch', `offset ${offset}: ${err.message}`);
          assert.ok(err.message.includes(part), `the message names ${part}: ${err.message}`);
          flipBit(part, offset);
        }
      }
      // Flipped back, the save imports again.
      await importSparkSave(save, tempDir(t), 'als');
    });
  }

  it('a flip in a data page is refused by the page CRC when the .crc side files are gone', async (t) => {
    const save = copySave(t);
    const part = firstPart(save, 'itemFactors');
    const bytes = readFileSync(part);
    const { parquetMetadata } = await import('hyparquet');
    const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    assert.ok(verifyPageCrcs(part, bytes, metadata) > 0, 'parquet-mr 1.13 (Spark 3.5) writes page CRCs');
    // The last byte of the features column's first page: inside the page body, past its header.
    const features = metadata.row_groups[0]!.columns.at(-1)!.meta_data!;
    const pageEnd = Number(features.dictionary_page_offset ?? features.data_page_offset) + Number(features.total_compressed_size) - 1;
    flipBit(part, pageEnd);
    const err = await importError(save, t);
    assert.equal(err.code, 'checksum_mismatch', err.message);
    assert.match(err.message, /does not match its CRC/);
  });

  it('a metadata file with a flipped bit is refused too', async (t) => {
    const save = copySave(t, { keepCrc: true });
    flipBit(path.join(save, 'metadata', 'part-00000'), 20);
    const err = await importError(save, t);
    assert.equal(err.code, 'checksum_mismatch');
    assert.match(err.message, /metadata\/part-00000/);
  });
});
