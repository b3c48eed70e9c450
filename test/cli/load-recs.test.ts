import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/fixtures.js';
import { runCli } from '../helpers/cli.js';
import { freePort, useRedis } from '../helpers/redis.js';
import { servingStack } from '../helpers/serving.js';
import { writeSparkRecsParquet, type SparkRecsRow } from '../helpers/spark-recs.js';

const redis = useRedis();

const recs = (user: number): SparkRecsRow => ({ user, recommendations: [{ item: user * 10 + 1, rating: 4.5 }, { item: user * 10 + 2, rating: 3.25 }, { item: -7, rating: 1 }] });

/** Serves variant `v` with a model that knows nobody, so every answer comes from Redis. */
async function serveFromRedis(t: { after(fn: () => void): void }, keyTemplate: string) {
  const feed = tempDir(t);
  const stack = await servingStack(feed, ['als'], undefined, {
    // A generous timeout: the first lookup also connects, and the suite runs two files at a time.
    fallbacks: { cache: { kind: 'redis', url: redis.url, keyTemplate, timeoutMs: 5000 } },
    experiments: [{ name: 'e', salt: 's', variants: [{ name: 'v', weight: 1, recommender: 'als', fallback: ['cache'] }] }],
  });
  t.after(() => stack.close());
  return async (userId: string) => {
    const res = await stack.app.inject({ method: 'GET', url: `/recommend/${userId}?n=2` });
    return { status: res.statusCode, body: res.json() as { items: { itemId: string; score: number }[]; source: string } };
  };
}

describe('recserve load-recs', () => {
  it("loads parquet in Spark's recommendForAllUsers layout into Redis, counts bad rows, and the lists are served", async (t) => {
    const dir = path.join(tempDir(t), 'recs');
    mkdirSync(dir);
    const rows = Array.from({ length: 2500 }, (_, i) => recs(i + 1));
    writeSparkRecsParquet(path.join(dir, 'part-00000-x.snappy.parquet'), rows.slice(0, 1500));
    writeSparkRecsParquet(path.join(dir, 'part-00001-x.snappy.parquet'), [...rows.slice(1500), { user: null, recommendations: [] }, { user: 9999, recommendations: [{ item: 1, rating: null }] }, { user: 9998, recommendations: null }]);
    writeFileSync(path.join(dir, '_SUCCESS'), '');
    writeFileSync(path.join(dir, '.part-00000-x.snappy.parquet.crc'), 'crc');
    const result = await runCli(['load-recs', '--input', dir, '--to', 'redis', '--url', redis.url, '--key-template', 'lr:{variant}:{userId}', '--variant', 'v', '--ttl', '3600']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stdout, /loaded 2500 users into redis \(redis\) for variant v in [\d.]+ s: \d+ users\/s; columns userId \/ movieId; 3 bad rows/);
    assert.match(result.stdout, /bad row: part-00001-x\.snappy\.parquet row 1000: userId is null/);
    assert.match(result.stdout, /bad row: part-00001-x\.snappy\.parquet row 1001: recommendations\[0\]\.rating is null/);
    assert.match(result.stdout, /bad row: part-00001-x\.snappy\.parquet row 1002: recommendations is (null|missing)/);
    const ttl = await redis.admin.ttl('lr:v:2000');
    assert.ok(ttl > 3500 && ttl <= 3600);
    const get = await serveFromRedis(t, 'lr:{variant}:{userId}');
    const { status, body } = await get('2000');
    assert.equal(status, 200);
    assert.equal(body.source, 'redis');
    assert.deepEqual(body.items, [{ itemId: '20001', score: 4.5 }, { itemId: '20002', score: 3.25 }]);
  });

  it('loads JSON lines (Spark df.write.json), inferring other column names', async (t) => {
    const file = path.join(tempDir(t), 'recs.json');
    writeFileSync(
      file,
      [
        JSON.stringify({ kakao_id: 5, recommendations: [{ musicID: -2143335460, rating: 2.5 }] }),
        '{broken json',
        JSON.stringify({ kakao_id: 6, recommendations: [{ musicID: 9, rating: 'high' }] }),
        JSON.stringify({ kakao_id: 7, recommendations: [{ musicID: 10, rating: 1.5 }, { musicID: 11, rating: 0.5 }] }),
        '',
      ].join('\n'),
    );
    const result = await runCli(['load-recs', '--input', file, '--to', 'redis', '--url', redis.url, '--key-template', 'js:{variant}:{userId}', '--variant', 'v']);
    assert.match(result.stdout, /loaded 2 users .*columns kakao_id \/ musicID; 2 bad rows/);
    assert.match(result.stdout, /recs\.json line 2: not JSON: "\{broken json"/);
    assert.doesNotMatch(result.stdout, /__invalid/);
    assert.match(result.stdout, /recs\.json line 3: recommendations\[0\]\.rating is "high"/);
    const get = await serveFromRedis(t, 'js:{variant}:{userId}');
    assert.deepEqual((await get('5')).body.items, [{ itemId: '-2143335460', score: 2.5 }]);
    assert.deepEqual((await get('7')).body.items, [{ itemId: '10', score: 1.5 }, { itemId: '11', score: 0.5 }]);
  });

  it('rejects a missing input, an unknown store, a bad TTL and a dead Redis or Cassandra in one line each', async (t) => {
    const dir = tempDir(t);
    const [deadRedis, deadCassandra] = [await freePort(), await freePort()];
    const recsFile = path.join(dir, 'recs.json');
    writeFileSync(recsFile, JSON.stringify({ u: 1, recommendations: [{ i: 2, rating: 1 }] }) + '\n');
    const cases: [string[], RegExp][] = [
      [['--input', path.join(dir, 'nope'), '--to', 'redis', '--variant', 'v', '--url', redis.url], /does not exist/],
      [['--input', tempDir(t), '--to', 'redis', '--variant', 'v', '--url', redis.url], /holds no \.parquet or \.json files/],
      [['--input', dir, '--to', 'memcached', '--variant', 'v'], /--to must be redis or cassandra/],
      [['--input', dir, '--to', 'redis', '--variant', 'v', '--ttl', '-5'], /--ttl must be a positive number of seconds/],
      [['--input', dir, '--to', 'cassandra', '--variant', 'v'], /--to cassandra needs --contact-points/],
      [['--input', recsFile, '--to', 'redis', '--variant', 'v', '--url', `redis://:secret@127.0.0.1:${deadRedis}`], new RegExp(`store_unavailable: cannot write to redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${deadRedis}`)],
      [['--input', recsFile, '--to', 'cassandra', '--variant', 'v', '--contact-points', `127.0.0.1:${deadCassandra}`], new RegExp(`store_unavailable: cannot write to cassandra at 127\\.0\\.0\\.1:${deadCassandra}`)],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(['load-recs', ...args]);
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.stderr, message);
      // One line for the user: no stack trace, no secret.
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /secret|\n\s+at /);
    }
  });
});
