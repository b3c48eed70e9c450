import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publishOnnxBundle } from '../../src/model-store/onnx-bundle.js';
import { synthModel } from '../../src/model-store/synth.js';
import { tempDir } from '../helpers/fixtures.js';
import { linearTanhModel, linearTanhScores } from '../helpers/onnx-models.js';
import { servingStack } from '../helpers/serving.js';
import { publishSynth } from '../helpers/synth-feed.js';

const shape = { users: 30, items: 120, rank: 6, seed: 11 };

function randomWeights(length: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.6);
}

async function onnxStack(t: { after(fn: () => void): void }, modelBytes: Uint8Array) {
  const feed = tempDir(t);
  await publishSynth(feed, 'als', shape);
  await publishOnnxBundle(modelBytes, { feedRoot: feed, name: 'rerank', source: 'test' });
  const stack = await servingStack(feed, ['als', 'rerank'], undefined, {
    recommenders: { rerank: { kind: 'onnx', model: 'rerank', factors: 'als' } },
    experiments: [{ name: 'e', salt: 's', variants: [{ name: 'net', weight: 1, recommender: 'rerank' }] }],
  });
  t.after(() => stack.close());
  await stack.store.loadAll();
  return stack;
}

describe('onnx variants', () => {
  const W = randomWeights(shape.rank * shape.items, 1);
  const b = randomWeights(shape.items, 2);
  const factors = synthModel(shape);

  it("serve the graph's top-N for the user's ALS factors, with its exact scores and exclusions", async (t) => {
    const stack = await onnxStack(t, linearTanhModel(W, b, shape.rank));
    for (const userId of [0, 7, 29]) {
      const expected = linearTanhScores(W, b, factors.users.factors.subarray(userId * shape.rank, (userId + 1) * shape.rank))
        .map((score, item) => ({ item, score }))
        .sort((x, y) => y.score - x.score);
      const res = await stack.app.inject({ method: 'GET', url: `/recommend/${userId}?n=5&exclude=${expected[1]!.item}` });
      assert.equal(res.statusCode, 200);
      const body = res.json() as { items: { itemId: string; score: number }[]; model: { name: string }; source: string; variant: string };
      assert.equal(body.variant, 'net');
      assert.equal(body.source, 'model');
      assert.equal(body.model.name, 'rerank');
      const wanted = expected.filter((_, i) => i !== 1).slice(0, 5);
      assert.deepEqual(body.items.map((i) => i.itemId), wanted.map((e) => String(e.item)));
      body.items.forEach((item, i) => assert.ok(Math.abs(item.score - wanted[i]!.score) < 1e-5, `${item.score} vs ${wanted[i]!.score}`));
    }
    const models = (await stack.app.inject({ method: 'GET', url: '/models' })).json() as { models: { name: string; kind: string; rank: number | null }[] };
    assert.deepEqual(models.models.map((m) => [m.name, m.kind, m.rank]), [['als', 'als', 6], ['rerank', 'onnx', 6]]);
  });

  it('reject a graph without the user -> scores contract, so the variant is unavailable rather than wrong', async (t) => {
    const stack = await onnxStack(t, linearTanhModel(W, b, shape.rank, 'features', 'logits'));
    assert.equal(stack.store.get('rerank'), undefined);
    assert.match(stack.store.status()[1]!.lastError!, /the graph must take a float32 input "user" \[1, rank\] and give a float32 output "scores".*\["features"\].*\["logits"\]/);
    const res = await stack.app.inject({ method: 'GET', url: '/recommend/1' });
    assert.equal(res.statusCode, 503);
  });

  it('answer 500 scoring_failed when the graph gives the wrong number of scores', async (t) => {
    const stack = await onnxStack(t, linearTanhModel(randomWeights(shape.rank * 50, 3), randomWeights(50, 4), shape.rank));
    const res = await stack.app.inject({ method: 'GET', url: '/recommend/1' });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json(), { error: 'scoring_failed', message: 'model rerank gave 50 scores; als has 120 items' });
  });
});
