import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { synthModel } from '../../src/model-store/synth.js';
import { publishSynth } from '../helpers/synth-feed.js';
import { servingStack } from '../helpers/serving.js';

const feed = mkdtempSync(path.join(tmpdir(), 'recserve-foldin-'));
const shape = { users: 30, items: 200, rank: 5, seed: 21 };
const model = synthModel(shape);
const training = { regParam: 0.1, implicitPrefs: false, alpha: 1, nonnegative: false, source: 'test' };
let stack: Awaited<ReturnType<typeof servingStack>>;

/** The explicit fold-in solved independently here: Gaussian elimination on (Σ y yᵀ + λ n I) x = Σ r y. */
function referenceFactor(interactions: { item: number; rating: number }[]): number[] {
  const k = shape.rank;
  const a = Array.from({ length: k }, () => new Array<number>(k + 1).fill(0));
  for (const { item, rating } of interactions) {
    const y = Array.from(model.items.factors.subarray(item * k, (item + 1) * k));
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) a[i]![j]! += y[i]! * y[j]!;
      a[i]![k]! += rating * y[i]!;
    }
  }
  for (let i = 0; i < k; i++) a[i]![i]! += training.regParam * interactions.length;
  for (let c = 0; c < k; c++) {
    for (let r = c + 1; r < k; r++) {
      const f = a[r]![c]! / a[c]![c]!;
      for (let j = c; j <= k; j++) a[r]![j]! -= f * a[c]![j]!;
    }
  }
  const x = new Array<number>(k).fill(0);
  for (let i = k - 1; i >= 0; i--) {
    let s = a[i]![k]!;
    for (let j = i + 1; j < k; j++) s -= a[i]![j]! * x[j]!;
    x[i] = s / a[i]![i]!;
  }
  return x;
}

/** Top-n item ids of a user vector by float64 dot products, ties by id. */
function topOf(vector: number[], n: number, exclude: number[]): string[] {
  return Array.from({ length: shape.items }, (_, item) => ({ item, s: vector.reduce((sum, v, i) => sum + v * model.items.factors[item * shape.rank + i]!, 0) }))
    .filter(({ item }) => !exclude.includes(item))
    .sort((p, q) => q.s - p.s || p.item - q.item)
    .slice(0, n)
    .map(({ item }) => String(item));
}

async function post(payload: unknown, url = '/recommend') {
  const res = await stack.app.inject({ method: 'POST', url, payload: payload as object });
  return { status: res.statusCode, body: res.json() as Record<string, unknown>, headers: res.headers };
}

before(async () => {
  await publishSynth(feed, 'als', { ...shape, training });
  await publishSynth(feed, 'plain', shape);
  stack = await servingStack(feed, ['als', 'plain'], undefined, {
    experiments: [
      { name: 'default', salt: 's', variants: [{ name: 'fold', weight: 1, recommender: 'als', foldIn: true }] },
      { name: 'nofold', salt: 's', variants: [{ name: 'plain-model', weight: 1, recommender: 'als' }] },
      { name: 'untrained', salt: 's', variants: [{ name: 'p', weight: 1, recommender: 'plain', foldIn: true }] },
    ],
  });
  await stack.store.loadAll();
});
after(async () => {
  await stack.close();
  rmSync(feed, { recursive: true, force: true });
});

describe('POST /recommend: fold-in', () => {
  const interactions = [
    { itemId: '3', rating: 5 },
    { itemId: '17', rating: 1 },
    { itemId: '40', rating: 4 },
    { itemId: '99', rating: 2 },
  ];
  const asRows = interactions.map(({ itemId, rating }) => ({ item: Number(itemId), rating }));

  it('answers a user the model does not know from their interactions, leaving those items out', async () => {
    const { status, body, headers } = await post({ userId: 'new-visitor', interactions, n: 8 });
    assert.equal(status, 200);
    assert.equal(body.source, 'foldin');
    assert.equal(body.fallbackReason, null);
    assert.equal(headers['x-recserve-source'], 'foldin');
    const ids = (body.items as { itemId: string }[]).map((i) => i.itemId);
    assert.deepEqual(ids, topOf(referenceFactor(asRows), 8, [3, 17, 40, 99]));
  });

  it('keeps the interacted items when asked, and scores each item with the folded-in factor', async () => {
    const { body } = await post({ userId: 'new-visitor', interactions, n: 5, excludeInteracted: false });
    const vector = referenceFactor(asRows);
    const items = body.items as { itemId: string; score: number }[];
    assert.deepEqual(items.map((i) => i.itemId), topOf(vector, 5, []));
    for (const { itemId, score } of items) {
      const want = vector.reduce((s, v, i) => s + v * model.items.factors[Number(itemId) * shape.rank + i]!, 0);
      assert.ok(Math.abs(score - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${itemId}: ${score} vs ${want}`);
    }
  });

  it('ignores interactions with items the model does not know', async () => {
    const { body } = await post({ userId: 'new-visitor', interactions: [...interactions, { itemId: 'no-such-item', rating: 5 }], n: 8 });
    assert.deepEqual((body.items as { itemId: string }[]).map((i) => i.itemId), topOf(referenceFactor(asRows), 8, [3, 17, 40, 99]));
  });

  it('leaves out the items of `exclude` as well as the interacted ones', async () => {
    const interacted = [3, 17, 40, 99];
    // The two best items the visitor would otherwise get, so that leaving them out changes the answer.
    const best = topOf(referenceFactor(asRows), 2, interacted).map(Number);
    const { body } = await post({ userId: 'new-visitor', interactions: [...interactions, { itemId: 'no-such-item', rating: 5 }], exclude: best.map(String), n: 8 });
    assert.deepEqual((body.items as { itemId: string }[]).map((i) => i.itemId), topOf(referenceFactor(asRows), 8, [...interacted, ...best]));
  });

  it('serves a user the model knows from the model (interactions only exclude)', async () => {
    const { body } = await post({ userId: '4', interactions: [{ itemId: '3', rating: 5 }], n: 5 });
    assert.equal(body.source, 'model');
    const own = Array.from(model.users.factors.subarray(4 * shape.rank, 5 * shape.rank));
    assert.deepEqual((body.items as { itemId: string }[]).map((i) => i.itemId), topOf(own, 5, [3]));
  });

  it('an anonymous request is folded in too, with no bucket, in the first variant', async () => {
    const { status, body } = await post({ interactions, n: 3 });
    assert.equal(status, 200);
    assert.deepEqual([body.userId, body.bucket, body.variant, body.source], [null, null, 'fold', 'foldin']);
  });

  it('without fold-in in the variant, or without training parameters in the bundle, an unknown user is a 404', async () => {
    const off = await post({ userId: 'new-visitor', interactions, experiment: 'nofold' });
    assert.deepEqual([off.status, off.body.error], [404, 'unknown_user']);
    const untrained = await post({ userId: 'new-visitor', interactions, experiment: 'untrained' });
    assert.deepEqual([untrained.status, untrained.body.error], [404, 'unknown_user']);
    const none = await post({ userId: 'new-visitor', interactions: [{ itemId: 'no-such-item', rating: 1 }] });
    assert.deepEqual([none.status, none.body.error], [404, 'unknown_user']);
  });

  it('refuses malformed bodies with a 400 in the one error shape', async () => {
    const missingRating = await post({ userId: 'x', interactions: [{ itemId: '3' }] });
    assert.deepEqual([missingRating.status, missingRating.body.error], [400, 'invalid_request']);
    assert.match(missingRating.body.message as string, /interactions\[0\]\.rating is required/);
    for (const bad of [
      { interactions: [{ itemId: '' }] },
      { interactions: [{ itemId: '3', rating: 'high' }] },
      { interactions: [{ itemId: '3', rating: 1e300 }] },
      { interactions: Array.from({ length: 1001 }, (_, i) => ({ itemId: String(i), rating: 1 })) },
      { interactions: [], surprise: true },
      { interactions: [], n: 0 },
      { userId: 'x'.repeat(129), interactions: [] },
    ]) {
      const { status, body } = await post(bad);
      assert.deepEqual([status, body.error], [400, 'invalid_request'], JSON.stringify(bad).slice(0, 80));
    }
    const notJson = await stack.app.inject({ method: 'POST', url: '/recommend', payload: '{', headers: { 'content-type': 'application/json' } });
    assert.equal(notJson.statusCode, 400);
    assert.equal(notJson.json().error, 'invalid_request');
  });
});
