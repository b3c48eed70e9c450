import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { parquetWriteFile } from 'hyparquet-writer';
import { bucketOf, variantBounds, variantIndex } from '../../src/hashing/bucketing.js';
import { loadConfigFile } from '../../src/config/load.js';
import { createServing } from '../../src/wiring/index.js';
import { silentLogger, tempDir } from '../helpers/fixtures.js';
import { runCli } from '../helpers/cli.js';
import { publishSynth } from '../helpers/synth-feed.js';

const PIECES = ['a', 'Z', '7', '-', ',', '"', ' ', 'é', '天', '地', '😀', '👍🏽', 'Ж', 'ß', '\n'];

/** 100,000 distinct ids: digits, ASCII, and non-ASCII with characters CSV must quote. */
function randomIds(count: number): string[] {
  let s = 99;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const ids = new Set<string>();
  while (ids.size < count) {
    ids.add(next() < 0.4 ? String(Math.floor(next() * 1e9)) : Array.from({ length: 1 + Math.floor(next() * 10) }, () => PIECES[Math.floor(next() * PIECES.length)]).join(''));
  }
  return [...ids];
}

function readCsv(file: string): { user_id: string; bucket: string; variant: string }[] {
  return parse(readFileSync(file), { columns: true });
}

describe('recserve bucket', () => {
  it('agrees with the server on 100,000 random ids, non-ASCII and CSV-quoted ones included', { timeout: 120_000 }, async (t) => {
    const dir = tempDir(t);
    await publishSynth(dir, 'als', { users: 10, items: 10, rank: 2 });
    const popular = path.join(dir, 'popular.json');
    writeFileSync(popular, '["1"]');
    const config = path.join(dir, 'recserve.yaml');
    writeFileSync(
      config,
      [
        `feed: ${dir}`,
        'models: [{name: als}]',
        'recommenders: {a: {kind: static, file: popular.json}, b: {kind: static, file: popular.json}, c: {kind: static, file: popular.json}}',
        'experiments:',
        '  - {name: hp, salt: "rot-1", hash: murmur3, variants: [{name: a, weight: 20, recommender: a}, {name: b, weight: 30, recommender: b}, {name: c, weight: 50, recommender: c}], overrides: {"42": a}}',
        '  - {name: sp, salt: "天", hash: spark, buckets: 977, variants: [{name: a, weight: 1, recommender: a}, {name: b, weight: 1, recommender: b}]}',
      ].join('\n'),
    );
    const ids = randomIds(100_000);
    ids.push('42');
    const input = path.join(dir, 'users.csv');
    writeFileSync(input, stringify([['user_id'], ...ids.map((id) => [id])]));
    // The server, wired from the same config file the CLI reads.
    const server = await createServing(loadConfigFile(config, {}), silentLogger);
    t.after(() => server.close());
    for (const experiment of ['hp', 'sp']) {
      const output = path.join(dir, `${experiment}.csv`);
      const result = await runCli(['bucket', '--config', config, '--experiment', experiment, '--input', input, '--output', output]);
      assert.equal(result.code, 0, result.stderr);
      const rows = readCsv(output);
      assert.equal(rows.length, ids.length);
      for (const [i, row] of rows.entries()) {
        assert.equal(row.user_id, ids[i]);
        const served = await server.service.recommend({ userId: ids[i]!, n: 1, exclude: [], experiment });
        assert.equal(row.bucket, String(served.bucket), `bucket of ${JSON.stringify(ids[i])}`);
        assert.equal(row.variant, served.variant, `variant of ${JSON.stringify(ids[i])}`);
      }
      if (experiment === 'hp') assert.equal(rows.at(-1)!.variant, 'a', 'override for user 42');
    }
  });

  it('takes the experiment from flags, reads parquet, and writes to stdout', async (t) => {
    const dir = tempDir(t);
    const input = path.join(dir, 'users.parquet');
    parquetWriteFile({ filename: input, columnData: [{ name: 'uid', data: ['u1', 'u2', '天地'], type: 'STRING' }] });
    const result = await runCli(['bucket', '--salt', 'x', '--buckets', '100', '--hash', 'spark', '--variants', 'ctl:1,new:3', '--input', input, '--column', 'uid']);
    assert.equal(result.code, 0, result.stderr);
    const bounds = variantBounds([1, 3], 100);
    const expected = ['u1', 'u2', '天地'].map((id) => {
      const bucket = bucketOf('x', id, 100, 'spark');
      return { user_id: id, bucket: String(bucket), variant: ['ctl', 'new'][variantIndex(bucket, bounds)]! };
    });
    assert.deepEqual(parse(result.stdout, { columns: true }), expected);
  });

  it('rejects bad flags and a missing column with a clear message', async (t) => {
    const dir = tempDir(t);
    const input = path.join(dir, 'u.csv');
    writeFileSync(input, 'id\n1\n');
    const cases: [string[], RegExp][] = [
      [['--variants', 'a:50,b:50'], /give --config <file> \[--experiment <name>\], or --salt and --variants/],
      [['--salt', 's', '--variants', 'a:0'], /variants\.0\.weight must be > 0/],
      [['--salt', 's', '--variants', 'a'], /--variants wants name:weight pairs/],
      [['--salt', 's', '--variants', 'a:1,a:2'], /duplicate variant name/],
      [['--salt', '', '--variants', 'a:1'], /salt must not have fewer than 1 characters/],
      [['--salt', 's', '--variants', 'a:1', '--buckets', '0'], /buckets must be >= 1/],
      [['--salt', 's', '--variants', 'a:1', '--hash', 'md5'], /hash/],
      [['--salt', 's', '--variants', 'a:1', '--input', input], /has no column "user_id" \(header: id\)/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(['bucket', ...args]);
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.stderr, message, args.join(' '));
    }
  });
});
