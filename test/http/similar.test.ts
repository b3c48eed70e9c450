import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { synthModel } from '../../src/model-store/synth.js';
import { publishSynth } from '../helpers/synth-feed.js';
import { servingStack } from '../helpers/serving.js';

const feed = mkdtempSync(path.join(tmpdir(), 'recserve-similar-'));
const shape = { users: 10, items: 500, rank: 7, seed: 5 };
const model = synthModel(shape);
let stack: Awaited<ReturnType<typeof servingStack>>;

/** Cosines of item `of` with every item, in float64, here in the test. */
function cosines(of: number): { item: number; c: number }[] {
  const k = shape.rank;
  const f = model.items.factors;
  const norm = (i: number) => Math.sqrt(Array.from(f.subarray(i * k, (i + 1) * k)).reduce((s, v) => s + v * v, 0));
  return Array.from({ length: shape.items }, (_, item) => {
    let d = 0;
    for (let i = 0; i < k; i++) d += f[of * k + i]! * f[item * k + i]!;
    return { item, c: d / (norm(of) * norm(item)) };
  });
}

function expected(of: number, n: number, exclude: number[] = []): string[] {
  return cosines(of)
    .filter(({ item }) => item !== of && !exclude.includes(item))
    .sort((p, q) => q.c - p.c || p.item - q.item)
    .slice(0, n)
    .map(({ item }) => String(item));
}

async function get(url: string) {
  const res = await stack.app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

before(async () => {
  await publishSynth(feed, 'als', shape);
  await publishSynth(feed, 'other', { ...shape, seed: 6 });
  stack = await servingStack(feed, ['als', 'other']);
  await stack.store.loadAll();
});
after(async () => {
  await stack.close();
  rmSync(feed, { recursive: true, force: true });
});

describe('GET /similar/:itemId', () => {
  it('answers the exact top-n by cosine of item factors, without the item itself, with each cosine', async () => {
    for (const item of [0, 7, 250, 499]) {
      const { status, body } = await get(`/similar/${item}?n=12`);
      assert.equal(status, 200);
      const items = body.items as { itemId: string; score: number }[];
      assert.deepEqual(items.map((i) => i.itemId), expected(item, 12), `item ${item}`);
      const byItem = new Map(cosines(item).map(({ item: i, c }) => [String(i), c]));
      for (const { itemId, score } of items) assert.ok(Math.abs(score - byItem.get(itemId)!) < 1e-5, `${itemId}: ${score}`);
      assert.equal(body.itemId, String(item));
      assert.equal((body.model as { name: string }).name, 'als');
    }
  });

  it('leaves out excluded items and answers from another model when asked', async () => {
    const { body } = await get('/similar/7?n=5&exclude=' + expected(7, 3).join(','));
    assert.deepEqual((body.items as { itemId: string }[]).map((i) => i.itemId), expected(7, 8).slice(3));
    const other = await get('/similar/7?n=5&model=other');
    assert.equal((other.body.model as { name: string }).name, 'other');
    assert.notDeepEqual(other.body.items, body.items);
  });

  it('answers many concurrent requests the same as one at a time (they share scans)', async () => {
    const items = Array.from({ length: 64 }, (_, i) => (i * 37) % shape.items);
    const answers = await Promise.all(items.map((item) => get(`/similar/${item}?n=5`)));
    answers.forEach(({ body }, i) => assert.deepEqual((body.items as { itemId: string }[]).map((x) => x.itemId), expected(items[i]!, 5)));
  });

  it('is 404 for an unknown item or model, 400 for bad parameters', async () => {
    assert.deepEqual(Object.values(await get('/similar/99999')).map((v) => (typeof v === 'object' ? (v as { error: string }).error : v)), [404, 'unknown_item']);
    assert.equal((await get('/similar/1?model=nope')).body.error, 'unknown_model');
    for (const url of ['/similar/1?n=0', '/similar/1?n=1001', '/similar/1?surprise=1', '/similar/1?model=bad%20name', `/similar/${'x'.repeat(129)}`]) {
      const { status, body } = await get(url);
      assert.deepEqual([status, body.error], [400, 'invalid_request'], url);
    }
  });
});
