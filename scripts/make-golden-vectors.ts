// Writes test/golden/bucketing.json: bucketing cases that any implementation (Python, Spark SQL,
// another SDK) can replay. Deterministic: the same file on every run.
import { writeFileSync } from 'node:fs';
import murmurhash from 'murmurhash';
import { bucketKey, bucketOf, HASH_MODES, variantBounds } from '../src/hashing/bucketing.js';
import { sparkHash } from '../src/hashing/spark-murmur3.js';

let state = 20261121;
const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@';
const MULTIBYTE = ['é', 'ß', 'ø', 'Ж', 'λ', '天', '地', '日本', '한', '😀', '🚀', '👍🏽', 'ﷺ', '\u0000', '\u007f'];
const randomAscii = (length: number) => Array.from({ length }, () => pick([...ALPHABET])).join('');

const userIds: string[] = ['', '0', '1', '42', '-1', '2147483647', '-2147483648', 'user-1', 'alice@example.com', '天地', '😀', 'naïve café', ' ', ',', '"quoted"'];
for (let length = 0; length < 24; length++) userIds.push(randomAscii(length)); // every byte length mod 4
for (let i = 0; i < 90; i++) userIds.push(String(Math.floor(next() * 1e9)));
for (let i = 0; i < 90; i++) userIds.push(Array.from({ length: 1 + Math.floor(next() * 6) }, () => (next() < 0.5 ? pick(MULTIBYTE) : randomAscii(1 + Math.floor(next() * 3)))).join(''));
userIds.push(randomAscii(128), randomAscii(1000), '天'.repeat(128), '😀'.repeat(50));
const salts = ['exp-2026-11', 's', '天', 'rotate:2'];
const bucketCounts = [10_000, 100, 1, 7, 1_000_000];

const cases = HASH_MODES.flatMap((hash) =>
  userIds.map((userId, i) => {
    const salt = salts[i % salts.length]!;
    const buckets = bucketCounts[i % bucketCounts.length]!;
    const key = bucketKey(salt, userId);
    return {
      hash,
      salt,
      userId,
      buckets,
      keyUtf8Hex: Buffer.from(key).toString('hex'),
      hashValue: hash === 'murmur3' ? murmurhash.v3(key, 0) : sparkHash(key),
      bucket: bucketOf(salt, userId, buckets, hash),
    };
  }),
);

// Variant i owns buckets [bounds[i-1], bounds[i]).
const splits = [
  { weights: [50, 50], buckets: 10_000 },
  { weights: [1, 1, 1], buckets: 10 },
  { weights: [0.2, 0.8], buckets: 7 },
  { weights: [10, 30, 60], buckets: 10_000 },
  { weights: [1, 2, 3, 4, 5, 6, 7], buckets: 1_000_000 },
  { weights: [0.1, 0.2, 0.3], buckets: 1000 },
  { weights: [99, 1], buckets: 3 },
].map((split) => ({ ...split, bounds: variantBounds(split.weights, split.buckets) }));

const file = new URL('../test/golden/bucketing.json', import.meta.url);
writeFileSync(
  file,
  JSON.stringify(
    {
      description:
        'recserve bucketing golden vectors. key = UTF-8 bytes of salt + ":" + userId. murmur3: MurmurHash3 x86_32, seed 0, unsigned; bucket = hashValue % buckets. spark: Spark SQL hash() (Murmur3 x86_32, seed 42, tail bytes sign-extended and mixed one at a time), signed; bucket = pmod(hashValue, buckets).',
      cases,
      splits,
    },
    null,
    1,
  ) + '\n',
);
console.log(`wrote ${cases.length} cases (${userIds.length} per mode) to ${file.pathname}`);
