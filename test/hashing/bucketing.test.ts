import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import murmurhash from 'murmurhash';
import { bucketKey, bucketOf, HASH_MODES, variantBounds, variantIndex, type HashMode } from '../../src/hashing/bucketing.js';
import { sparkHash } from '../../src/hashing/spark-murmur3.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

interface GoldenCase {
  hash: HashMode;
  salt: string;
  userId: string;
  buckets: number;
  keyUtf8Hex: string;
  hashValue: number;
  bucket: number;
}
const goldenFile = new URL('../golden/bucketing.json', import.meta.url);
const golden = JSON.parse(readFileSync(goldenFile, 'utf8')) as { cases: GoldenCase[]; splits: { weights: number[]; buckets: number; bounds: number[] }[] };

describe('hash functions', () => {
  it("spark mode reproduces Spark SQL's hash() on strings", () => {
    assert.equal(sparkHash(utf8('')), 142593372);
    assert.equal(sparkHash(utf8('a')), 1485273170);
    assert.equal(sparkHash(utf8('abcde')), 814637928);
    assert.equal(sparkHash(utf8('天地')), -1899966402);
  });

  it('murmur3 mode is standard MurmurHash3 x86_32 (published vectors)', () => {
    assert.equal(murmurhash.v3(utf8(''), 0), 0);
    assert.equal(murmurhash.v3(utf8('hello'), 0), 613153351);
    assert.equal(murmurhash.v3(utf8('The quick brown fox jumps over the lazy dog'), 0), 0x2e4ff723);
  });

  it('the two implementations agree wherever Spark\'s tail quirk cannot apply (length a multiple of 4)', () => {
    for (let trial = 0; trial < 2000; trial++) {
      const bytes = Uint8Array.from({ length: 4 * Math.floor(Math.random() * 12) }, () => Math.floor(Math.random() * 256));
      assert.equal(sparkHash(bytes, 0) >>> 0, murmurhash.v3(bytes, 0));
    }
    // ...and differ where it does: a tail byte >= 0x80 is sign-extended by Spark.
    assert.notEqual(sparkHash(utf8('é'), 0) >>> 0, murmurhash.v3(utf8('é'), 0));
  });
});

describe('golden vectors (test/golden/bucketing.json)', () => {
  it('has at least 200 cases per mode covering empty, multi-byte, long ids and every length mod 4', () => {
    for (const mode of HASH_MODES) {
      const cases = golden.cases.filter((c) => c.hash === mode);
      assert.ok(cases.length >= 200, `${mode}: ${cases.length} cases`);
      assert.ok(cases.some((c) => c.userId === ''));
      assert.ok(cases.some((c) => /[\u4e00-\u9fff]/.test(c.userId)), 'CJK');
      assert.ok(cases.some((c) => /\p{Extended_Pictographic}/u.test(c.userId)), 'emoji');
      assert.ok(cases.some((c) => c.userId.length >= 1000), 'long ids');
      assert.deepEqual(new Set(cases.map((c) => (c.keyUtf8Hex.length / 2) % 4)), new Set([0, 1, 2, 3]));
    }
  });

  it('every case reproduces: key bytes, hash value and bucket', () => {
    for (const c of golden.cases) {
      const key = bucketKey(c.salt, c.userId);
      assert.equal(Buffer.from(key).toString('hex'), c.keyUtf8Hex);
      assert.equal(c.hash === 'murmur3' ? murmurhash.v3(key, 0) : sparkHash(key), c.hashValue, JSON.stringify(c));
      assert.equal(bucketOf(c.salt, c.userId, c.buckets, c.hash), c.bucket, JSON.stringify(c));
    }
  });

  it('keys of one length hashed in turn, ASCII or not, each get their own bucket (the bytes of one are not the next one\'s)', () => {
    const ids = ['user-1', 'user-2', 'usér1', 'user-3', '用户12', 'user-1'];
    for (const mode of HASH_MODES) {
      const expected = ids.map((id) => {
        const key = bucketKey('same', id);
        return (((mode === 'murmur3' ? murmurhash.v3(key, 0) : sparkHash(key)) % 1_000_003) + 1_000_003) % 1_000_003;
      });
      assert.equal(new Set(expected).size, 5);
      assert.deepEqual(ids.map((id) => bucketOf('same', id, 1_000_003, mode)), expected);
    }
  });
});

describe('other languages', () => {
  const python = spawnSync('python3', ['--version']);
  it('the plain-Python reference (test/golden/bucketing.py) reproduces every golden case and split', { skip: python.status !== 0 && 'python3 is not installed' }, () => {
    const run = spawnSync('python3', [fileURLToPath(new URL('../golden/bucketing.py', import.meta.url)), fileURLToPath(goldenFile)], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, new RegExp(`^${golden.cases.length} passed, 0 failed`));
  });
});

describe('buckets and variants', () => {
  it('golden splits reproduce', () => {
    for (const split of golden.splits) assert.deepEqual(variantBounds(split.weights, split.buckets), split.bounds);
  });

  it('spark buckets are pmod: never negative', () => {
    const negative = golden.cases.filter((c) => c.hash === 'spark' && c.hashValue < 0 && c.buckets > 1);
    assert.ok(negative.length > 10);
    for (const c of negative) assert.equal(c.bucket, ((c.hashValue % c.buckets) + c.buckets) % c.buckets);
  });

  it('variant i owns [floor(W(i-1)*B/W), floor(W(i)*B/W))', () => {
    assert.deepEqual(variantBounds([50, 50], 10_000), [5000, 10_000]);
    assert.deepEqual(variantBounds([1, 1, 1], 10), [3, 6, 10]);
    assert.deepEqual(variantBounds([0.2, 0.8], 7), [1, 7]);
    const bounds = variantBounds([1, 1, 1], 10);
    assert.deepEqual(Array.from({ length: 10 }, (_, b) => variantIndex(b, bounds)), [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]);
  });

  for (const mode of HASH_MODES) {
    it(`${mode}: the split of 100,000 ids is within 1% of the weights`, () => {
      const weights = [10, 30, 60];
      const bounds = variantBounds(weights, 10_000);
      const counts = [0, 0, 0];
      for (let i = 0; i < 100_000; i++) counts[variantIndex(bucketOf('split-test', `user-${i}`, 10_000, mode), bounds)]!++;
      counts.forEach((count, i) => assert.ok(Math.abs(count / 100_000 - weights[i]! / 100) < 0.01, `${mode} variant ${i}: ${count}`));
    });
  }
});
