// Spark itself, end to end (the integration suite: `npm run test:integration`). For each installed PySpark
// (scripts/setup-integration.sh puts 3.5 and 4.0 under .tools/), test/integration/spark_job.py trains ALS
// models (explicit, implicit, nonnegative; int ids, some negative), saves them with model.write().save(),
// and writes what Spark says of them; recserve must import, serve and agree.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { loadBundle } from '../../src/model-store/bundle-loader.js';
import { rowOfId } from '../../src/model-store/factors.js';
import { foldIn } from '../../src/scorers/fold-in.js';
import { importSparkSave } from '../../src/spark/import.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT, tempDir } from '../helpers/fixtures.js';
import { stageUpdate } from '../helpers/feed-staging.js';
import { startRedis } from '../helpers/redis.js';
import { servingStack } from '../helpers/serving.js';

const run = promisify(execFile);
const TOOLS = path.join(REPO_ROOT, '.tools', 'pyspark');
const KINDS = ['explicit', 'implicit', 'nonnegative'] as const;
const RELATIVE = 1e-5;

/** Each PySpark installed by scripts/setup-integration.sh: its version and its PYTHONPATH. */
function pysparks(): { version: string; pythonPath: string }[] {
  if (!existsSync(TOOLS)) return [];
  return readdirSync(TOOLS)
    .filter((v) => existsSync(path.join(TOOLS, v, 'pyspark')))
    .sort()
    .map((version) => ({ version, pythonPath: path.join(TOOLS, version) }));
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= RELATIVE * Math.max(Math.abs(a), Math.abs(b), 1e-6);
}

/** Served top-10 against Spark's recommendForAllUsers(10): equal scores position by position, and the same items except among ties. */
function assertSameTopN(user: string, served: { itemId: string; score: number }[], spark: [number, number][]) {
  assert.equal(served.length, spark.length, `user ${user}: list length`);
  served.forEach((s, i) => assert.ok(close(s.score, spark[i]![1]), `user ${user}, position ${i}: served ${s.score}, Spark ${spark[i]![1]}`));
  const last = spark.at(-1)![1];
  // Items clearly above the 10th score are not ties with anything outside the list: they must be the same.
  const clear = (items: [string, number][]) => new Set(items.filter(([, score]) => score > last && !close(score, last)).map(([item]) => item));
  assert.deepEqual(clear(served.map((s) => [s.itemId, s.score])), clear(spark.map(([item, score]) => [String(item), score])), `user ${user}: items`);
}

async function sparkJob(t: TestContext, pythonPath: string, feed?: string): Promise<string> {
  const out = tempDir(t, 'recserve-spark-');
  await run('python3', [path.join(REPO_ROOT, 'test', 'integration', 'spark_job.py'), out, ...(feed ? [feed] : [])], {
    env: { ...process.env, PYTHONPATH: pythonPath, PYSPARK_PYTHON: 'python3' },
    maxBuffer: 64 * 2 ** 20,
    timeout: 15 * 60_000,
  });
  return out;
}

const available = pysparks();

describe('Spark itself: train, save, import, serve', () => {
  if (available.length === 0) {
    it('needs PySpark', (t) => {
      // Never skipped in CI: .ci/run runs scripts/setup-integration.sh first.
      assert.ok(!process.env.CI, 'CI must have PySpark under .tools/pyspark (scripts/setup-integration.sh)');
      t.skip('no PySpark under .tools/pyspark: run bash scripts/setup-integration.sh');
    });
  }
  for (const { version, pythonPath } of available) {
    it(`PySpark ${version}: scores, top-10, Redis fallback, Spark SQL buckets, and a save published into a running server's feed`, { timeout: 30 * 60_000 }, async (t) => {
      // A running server following a feed, before Spark writes into it.
      const feed = tempDir(t);
      const first = await stageUpdate(feed, 'als', { seed: 1 });
      const following = await servingStack(feed, ['als'], undefined, { reload: { pollIntervalMs: 200 } });
      t.after(() => following.close());
      await following.store.loadAll();
      following.watcher.start();
      assert.equal(following.store.get('als')!.version, first);

      const out = await sparkJob(t, pythonPath, feed);
      t.diagnostic(`Spark ${readFileSync(path.join(out, 'spark-version.txt'), 'utf8')}`);

      const ratingsByUser = new Map<string, [string, number][]>();
      for (const line of readFileSync(path.join(out, 'ratings.csv'), 'utf8').trim().split('\n').slice(1)) {
        const [user, item, rating] = line.split(',') as [string, string, string];
        ratingsByUser.set(user, [...(ratingsByUser.get(user) ?? []), [item, Number(rating)]]);
      }

      // 1. Every kind of ALS: import-spark, serve every user, compare with Spark.
      for (const kind of KINDS) {
        const kindFeed = tempDir(t);
        const update = await importSparkSave(path.join(out, kind, 'save'), kindFeed, 'als');
        const stack = await servingStack(kindFeed, ['als']);
        t.after(() => stack.close());
        await stack.store.loadAll();
        const top10 = JSON.parse(readFileSync(path.join(out, kind, 'top10.json'), 'utf8')) as Record<string, [number, number][]>;
        const predictions = new Map((JSON.parse(readFileSync(path.join(out, kind, 'predictions.json'), 'utf8')) as [number, number, number][]).map(([u, i, p]) => [`${u}:${i}`, p]));
        let compared = 0;
        for (const [user, spark] of Object.entries(top10)) {
          const served = await stack.service.recommend({ userId: user, n: 10, exclude: [] });
          assertSameTopN(`${kind} ${user}`, served.items, spark);
          for (const item of served.items) {
            const expected = predictions.get(`${user}:${item.itemId}`);
            if (expected === undefined) continue;
            assert.ok(close(item.score, expected), `${kind}: user ${user}, item ${item.itemId}: served ${item.score}, transform() ${expected}`);
            compared++;
          }
        }
        const snapshot = await loadBundle('als', update.updateId, update.dir);
        assert.equal(Object.keys(top10).length, snapshot.numUsers, `${kind}: every user compared`);
        assert.ok(compared >= 9 * snapshot.numUsers, `${kind}: ${compared} scores compared with transform()`);

        // Fold-in: each training user's own ratings, as a user the model does not know, give back Spark's
        // factor for that user and Spark's top-10 (Spark computes the last user factors from the last item factors).
        const training = snapshot.manifest.training!;
        assert.ok(training, `${kind}: the estimator saved beside the model gave the training parameters`);
        let worst = 0;
        for (const [user, rated] of ratingsByUser) {
          const row = rowOfId(snapshot.userIds, user);
          const folded = foldIn(snapshot, training, snapshot.itemGram, rated.map(([item, rating]) => ({ row: rowOfId(snapshot.itemIds, item), rating })))!;
          const saved = snapshot.userFactors.subarray(row * snapshot.rank, (row + 1) * snapshot.rank);
          worst = Math.max(worst, Math.hypot(...Array.from(folded, (v, i) => v - saved[i]!)) / Math.hypot(...saved));
          const served = await stack.service.recommend({ userId: `new-${user}`, n: 10, exclude: [], interactions: rated.map(([itemId, rating]) => ({ itemId, rating })) });
          assert.equal(served.source, 'foldin');
          assertSameTopN(`${kind} fold-in ${user}`, served.items, top10[user]!);
        }
        t.diagnostic(`${kind}: fold-in of ${ratingsByUser.size} users, worst relative error against Spark's factors ${worst.toExponential(2)}`);
        assert.ok(worst <= 1e-4, `${kind}: fold-in relative error ${worst}`);
      }

      // 2. recommendForAllUsers as parquet -> load-recs -> Redis, served for the users the reduced model lacks.
      const redis = await startRedis();
      t.after(() => redis.stop());
      const loaded = await runCli(['load-recs', '--input', path.join(out, 'recs-parquet'), '--to', 'redis', '--url', redis.url, '--variant', 'v']);
      assert.equal(loaded.code, 0, loaded.stderr);
      const reducedFeed = tempDir(t);
      await importSparkSave(path.join(out, 'reduced', 'save'), reducedFeed, 'als');
      const reduced = await servingStack(reducedFeed, ['als'], undefined, {
        fallbacks: { cache: { kind: 'redis', url: redis.url, timeoutMs: 1000 } },
        experiments: [{ name: 'e', salt: 's', variants: [{ name: 'v', weight: 1, recommender: 'als', fallback: ['cache'] }] }],
        deadlineMs: 5000,
      });
      t.after(() => reduced.close());
      await reduced.store.loadAll();
      const parts = readdirSync(path.join(out, 'recs-parquet')).filter((n) => n.endsWith('.parquet'));
      const recs = (await Promise.all(parts.map(async (n) => parquetReadObjects({ file: await asyncBufferFromFile(path.join(out, 'recs-parquet', n)) })))).flat();
      let fromRedis = 0;
      for (const row of recs) {
        const user = row.user as number;
        const answer = await reduced.service.recommend({ userId: String(user), n: 10, exclude: [] });
        if (user % 7 !== 0) {
          assert.equal(answer.source, 'model', `user ${user} is in the reduced model`);
          continue;
        }
        assert.equal(answer.source, 'redis', `user ${user} was removed from the model: Redis answers`);
        const expected = (row.recommendations as { item: number; rating: number }[]).map((r) => ({ itemId: String(r.item), score: r.rating }));
        assert.deepEqual(answer.items.map((i) => i.itemId), expected.map((e) => e.itemId));
        answer.items.forEach((item, i) => assert.ok(close(item.score, expected[i]!.score)));
        fromRedis++;
      }
      assert.ok(fromRedis > 40, `${fromRedis} users answered from Redis`);

      // 3. The README's Spark SQL bucket query equals recserve bucket --hash spark, row for row.
      const bucketed = await runCli(['bucket', '--hash', 'spark', '--salt', '2026-11', '--buckets', '10000', '--variants', 'control:50,rerank:40,popular:10', '--input', path.join(out, 'ids.csv')]);
      assert.equal(bucketed.code, 0, bucketed.stderr);
      const ours = parse(bucketed.stdout, { columns: true }) as { user_id: string; bucket: string; variant: string }[];
      const spark = parse(readFileSync(path.join(out, 'buckets.csv'), 'utf8'), { columns: true }) as typeof ours;
      assert.equal(ours.length, 100_000);
      assert.deepEqual(ours, spark);

      // 4. The save Spark wrote into the feed (then _SUCCESS) is picked up by the running server.
      const published = readFileSync(path.join(out, 'published.txt'), 'utf8').trim();
      for (let i = 0; i < 600 && following.store.get('als')!.version !== published; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(following.store.get('als')!.version, published);
      const served = await following.service.recommend({ userId: '1', n: 5, exclude: [] });
      assert.equal(served.items.length, 5);
    });
  }
});
