import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { bucketOf, variantBounds, variantIndex } from '../../src/hashing/bucketing.js';
import { tempDir } from '../helpers/fixtures.js';
import { servingStack } from '../helpers/serving.js';
import { publishSynth } from '../helpers/synth-feed.js';

const popular = [{ itemId: '900', score: 50 }, { itemId: '901', score: 40 }, { itemId: '902', score: 30 }];

async function abStack(t: { after(fn: () => void): void }, extra: Record<string, unknown> = {}) {
  const feed = tempDir(t);
  await publishSynth(feed, 'als', { users: 200, items: 100, rank: 4 });
  const popularFile = path.join(feed, 'popular.json');
  writeFileSync(popularFile, JSON.stringify(popular));
  const stack = await servingStack(feed, ['als'], undefined, {
    recommenders: { als: { kind: 'als', model: 'als' }, popular: { kind: 'static', file: popularFile } },
    experiments: [
      {
        name: 'homepage',
        salt: 'hp-1',
        hash: 'murmur3',
        variants: [
          { name: 'control', weight: 50, recommender: 'als' },
          { name: 'popular', weight: 50, recommender: 'popular' },
        ],
        overrides: { '7': 'popular', '8': 'control' },
      },
      { name: 'spark-split', salt: 'sp', hash: 'spark', buckets: 100, variants: [{ name: 'only', weight: 1, recommender: 'als' }] },
    ],
    ...extra,
  });
  t.after(() => stack.close());
  await stack.store.loadAll();
  return stack;
}

type Body = { items: { itemId: string; score: number }[]; source: string; experiment: string; variant: string; bucket: number; model: unknown };

describe('experiments over HTTP', () => {
  it('routes each user by salted hash, says who served, and sets the headers', async (t) => {
    const stack = await abStack(t);
    const bounds = variantBounds([50, 50], 10_000);
    const seen = new Set<string>();
    for (let user = 0; user < 60; user++) {
      if (user === 7 || user === 8) continue;
      const res = await stack.app.inject({ method: 'GET', url: `/recommend/${user}?n=3` });
      assert.equal(res.statusCode, 200);
      const body = res.json() as Body;
      const bucket = bucketOf('hp-1', String(user), 10_000, 'murmur3');
      const variant = ['control', 'popular'][variantIndex(bucket, bounds)]!;
      assert.deepEqual([body.experiment, body.variant, body.bucket], ['homepage', variant, bucket]);
      assert.equal(res.headers['x-recserve-experiment'], 'homepage');
      assert.equal(res.headers['x-recserve-variant'], variant);
      if (variant === 'popular') {
        assert.deepEqual(body.items, popular);
        assert.equal(body.source, 'static');
        assert.equal(body.model, null);
      } else {
        assert.equal(body.source, 'model');
      }
      seen.add(variant);
    }
    assert.deepEqual(seen, new Set(['control', 'popular']));
  });

  it('answers each batch line as GET does, across variants, a static recommender and fallbacks for unknown users', async (t) => {
    const lastResort = path.join(tempDir(t), 'last-resort.json');
    writeFileSync(lastResort, JSON.stringify([{ itemId: '950', score: 1 }]));
    const stack = await abStack(t, {
      // Single requests have a deadline and batch lines none: a loaded machine must not make a GET skip the model here.
      deadlineMs: 60_000,
      fallbacks: { lastResort: { kind: 'static', file: lastResort } },
      experiments: [
        {
          name: 'homepage',
          salt: 'hp-1',
          variants: [
            { name: 'control', weight: 50, recommender: 'als', fallback: ['lastResort'] },
            { name: 'popular', weight: 50, recommender: 'popular' },
          ],
          overrides: { 'nobody-1': 'control', 'nobody-2': 'popular' },
        },
      ],
    });
    const userIds = [...Array.from({ length: 40 }, (_, i) => String(i)), 'nobody-1', 'nobody-2', '5'];
    // Excluded: the best items of the model's first answers, so that the exclusion changes lines.
    const tops = await Promise.all(userIds.map(async (u) => (await stack.app.inject({ method: 'GET', url: `/recommend/${u}?n=1` })).json() as Body));
    const exclude = [...new Set(tops.filter((b) => b.source === 'model').map((b) => b.items[0]!.itemId))].slice(0, 2);
    assert.equal(exclude.length, 2);
    const res = await stack.app.inject({ method: 'POST', url: '/recommend/batch', payload: { userIds, n: 3, exclude } });
    const lines = res.body.trimEnd().split('\n').map((l) => JSON.parse(l) as Body & { fallbackReason: string | null; userId: string });
    assert.deepEqual(lines.map((l) => l.userId), userIds);
    for (const [i, line] of lines.entries()) {
      const single = (await stack.app.inject({ method: 'GET', url: `/recommend/${userIds[i]}?n=3&exclude=${exclude.join(',')}` })).json() as Body;
      // Users scanned together sum in another order: scores agree to float32 rounding.
      assert.deepEqual({ ...line, items: line.items.map((item) => item.itemId) }, { ...single, items: single.items.map((item) => item.itemId) }, `line ${i}`);
      line.items.forEach((item, j) => assert.ok(Math.abs(item.score - single.items[j]!.score) <= 1e-6 * Math.abs(item.score), `line ${i} item ${j}`));
    }
    assert.ok(lines.every((l) => l.items.every((item) => !exclude.includes(item.itemId))), 'no line holds an excluded item');
    const kinds = new Set(lines.map((l) => `${l.variant} ${l.source} ${l.fallbackReason}`));
    assert.deepEqual([...kinds].sort(), ['control model null', 'control static unknown_user', 'popular static null']);
  });

  it('lets overrides win over the hash, and reports the hashed bucket all the same', async (t) => {
    const stack = await abStack(t);
    for (const [user, variant] of [['7', 'popular'], ['8', 'control']]) {
      const body = (await stack.app.inject({ method: 'GET', url: `/recommend/${user}` })).json() as Body;
      assert.equal(body.variant, variant);
      assert.equal(body.bucket, bucketOf('hp-1', user!, 10_000, 'murmur3'));
    }
  });

  it('picks another experiment with ?experiment= (spark hash mode)', async (t) => {
    const stack = await abStack(t);
    const body = (await stack.app.inject({ method: 'GET', url: '/recommend/5?experiment=spark-split' })).json() as Body;
    assert.deepEqual([body.experiment, body.variant, body.bucket], ['spark-split', 'only', bucketOf('sp', '5', 100, 'spark')]);
  });

  it('ignores the x-recserve-variant header unless allowForcedVariant is set', async (t) => {
    const stack = await abStack(t);
    const natural = (await stack.app.inject({ method: 'GET', url: '/recommend/8' })).json() as Body;
    const forced = (await stack.app.inject({ method: 'GET', url: '/recommend/8', headers: { 'x-recserve-variant': 'popular' } })).json() as Body;
    assert.equal(natural.variant, 'control');
    assert.equal(forced.variant, 'control');
  });

  it('honours x-recserve-variant when allowed, and rejects a variant the experiment lacks', async (t) => {
    const stack = await abStack(t, { allowForcedVariant: true });
    const forced = await stack.app.inject({ method: 'GET', url: '/recommend/8', headers: { 'x-recserve-variant': 'popular' } });
    assert.equal((forced.json() as Body).variant, 'popular');
    assert.equal(forced.headers['x-recserve-variant'], 'popular');
    const unknown = await stack.app.inject({ method: 'GET', url: '/recommend/8', headers: { 'x-recserve-variant': 'nope' } });
    assert.equal(unknown.statusCode, 400);
    assert.equal((unknown.json() as { error: string }).error, 'unknown_variant');
  });

  it('writes one exposure line per served assignment, sampled by user', async (t) => {
    const log = path.join(tempDir(t), 'exposures.jsonl');
    const stack = await abStack(t, { exposureLog: { destination: log, sampleRate: 1 } });
    for (const user of ['1', '2', '7', '8']) await stack.app.inject({ method: 'GET', url: `/recommend/${user}` });
    await stack.close();
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => l.userId), ['1', '2', '7', '8']);
    const seven = lines[2]!;
    assert.deepEqual({ ...seven, time: undefined }, { time: undefined, experiment: 'homepage', variant: 'popular', bucket: bucketOf('hp-1', '7', 10_000, 'murmur3'), userId: '7', source: 'static', modelVersion: null });
    assert.ok(!Number.isNaN(Date.parse(seven.time as string)));
  });

  it('samples about sampleRate of users, always the same ones', async (t) => {
    const log = path.join(tempDir(t), 'sampled.jsonl');
    const stack = await abStack(t, { exposureLog: { destination: log, sampleRate: 0.25 } });
    for (let round = 0; round < 2; round++) for (let user = 0; user < 200; user++) await stack.service.recommend({ userId: String(user), n: 1, exclude: [] });
    await stack.close();
    const users = readFileSync(log, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { userId: string }).userId);
    const distinct = new Set(users);
    assert.equal(users.length, 2 * distinct.size, 'a sampled user is logged on every request');
    assert.ok(distinct.size > 25 && distinct.size < 75, `${distinct.size} of 200 users sampled at 0.25`);
  });
});
