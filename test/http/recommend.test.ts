import { loadNative } from '../../src/native-addon.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { synthModel } from '../../src/model-store/synth.js';
import { publishSynth } from '../helpers/synth-feed.js';
import { servingStack } from '../helpers/serving.js';

const feed = mkdtempSync(path.join(tmpdir(), 'recserve-http-'));
const shape = { users: 40, items: 300, rank: 6, seed: 3 };
const model = synthModel(shape);
let stack: Awaited<ReturnType<typeof servingStack>>;
let version: string;

/** Expected top-n in the test itself: float64 dot products of the synthetic factors. */
function expectedTop(userId: number, n: number, exclude: number[] = []): string[] {
  const u = model.users.factors.subarray(userId * shape.rank, (userId + 1) * shape.rank);
  return Array.from({ length: shape.items }, (_, item) => {
    let s = 0;
    for (let k = 0; k < shape.rank; k++) s += u[k]! * model.items.factors[item * shape.rank + k]!;
    return { item, s };
  })
    .filter(({ item }) => !exclude.includes(item))
    .sort((a, b) => b.s - a.s || a.item - b.item)
    .slice(0, n)
    .map(({ item }) => String(item));
}

before(async () => {
  version = (await publishSynth(feed, 'als', shape)).updateId;
  stack = await servingStack(feed, ['als']);
});
after(async () => {
  await stack.close();
  rmSync(feed, { recursive: true, force: true });
});

async function get(url: string) {
  const res = await stack.app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

describe('GET /readyz and /models before and after loading', () => {
  it('is 503 with the model listed as not loaded before the first load', async () => {
    const ready = await get('/readyz');
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.body, { ready: false, models: [{ name: 'als', loaded: false }] });
    const rec = await get('/recommend/1');
    assert.equal(rec.status, 503);
    assert.equal(rec.body.error, 'model_unavailable');
    assert.equal((await get('/healthz')).status, 200);
  });

  it('is 200 once the model is loaded, and /models shows what is served', async () => {
    await stack.store.loadAll();
    const ready = await get('/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.ready, true);
    const models = (await get('/models')).body.models as Record<string, unknown>[];
    assert.equal(models.length, 1);
    const { scoring, ...rest } = models[0]!;
    assert.deepEqual({ ...rest, loadedAt: undefined }, { name: 'als', kind: 'als', loaded: true, version, rank: 6, numUsers: 40, numItems: 300, itemEncoding: 'float32', loadedAt: undefined, lastError: null });
    // Only the native kernels scan off the event loop (native-int8 quantises this float32 model itself): both
    // were timed on it and the faster serves.
    const { lone, batched, isa, timings } = scoring as { lone: string; batched: string; isa: string | null; timings: { kernel: string }[] };
    assert.deepEqual(timings.map((t) => t.kernel), ['native-float32', 'native-int8']);
    assert.ok(['native-float32', 'native-int8'].includes(lone) && ['native-float32', 'native-int8'].includes(batched), `${lone} / ${batched}`);
    assert.equal(isa, loadNative()!.isa()[lone === 'native-int8' ? 'int8' : 'float32']);
    assert.ok(!Number.isNaN(Date.parse(models[0]!.loadedAt as string)));
  });
});

describe('GET /recommend/:userId', () => {
  it('answers the top-n with ids as strings, the model version and the source', async () => {
    const { status, body } = await get('/recommend/7?n=5');
    assert.equal(status, 200);
    assert.equal(body.userId, '7');
    assert.deepEqual(body.model, { name: 'als', version });
    assert.equal(body.source, 'model');
    assert.equal(body.experiment, 'default');
    assert.equal(body.variant, 'als');
    assert.ok(Number.isInteger(body.bucket) && (body.bucket as number) >= 0 && (body.bucket as number) < 10_000);
    const items = body.items as { itemId: string; score: number }[];
    assert.deepEqual(items.map((i) => i.itemId), expectedTop(7, 5));
    assert.ok(items.every((i) => typeof i.score === 'number'));
  });

  it('defaults n to 10 and honours n=1000 (capped by the item count)', async () => {
    assert.equal(((await get('/recommend/3')).body.items as unknown[]).length, 10);
    assert.deepEqual(((await get('/recommend/3?n=1000')).body.items as { itemId: string }[]).map((i) => i.itemId), expectedTop(3, 300));
  });

  it('leaves out excluded items and still returns n', async () => {
    const top = expectedTop(9, 3).map(Number);
    const { body } = await get(`/recommend/9?n=3&exclude=${top.join(',')},999999,abc`);
    assert.deepEqual((body.items as { itemId: string }[]).map((i) => i.itemId), expectedTop(9, 3, top));
  });

  it('answers 404 unknown_user for ids the model does not know', async () => {
    for (const id of ['40', '-1', 'alice', '99999999999', '%E2%9C%93']) {
      const { status, body } = await get(`/recommend/${id}`);
      assert.equal(status, 404, id);
      assert.equal(body.error, 'unknown_user');
      assert.match(body.message as string, /is not known to model als/);
    }
  });

  it('answers 400 with a code and message for invalid input', async () => {
    const cases: [string, RegExp][] = [
      ['/recommend/1?n=0', /n must be >= 1/],
      ['/recommend/1?n=1001', /n must be <= 1000/],
      ['/recommend/1?n=abc', /n must be a decimal integer/],
      ['/recommend/1?n=2.5', /n must be a decimal integer/],
      [`/recommend/${'1'.repeat(129)}`, /userId must NOT have more than 128 characters/],
      ['/recommend/1?exclude=1,,2', /exclude must be comma-separated ids/],
      ['/recommend/1?exclude=,', /exclude must be comma-separated ids/],
      [`/recommend/1?exclude=${'9'.repeat(129)}`, /exclude must be comma-separated ids of 1\.\.128 characters/],
      [`/recommend/1?exclude=${Array.from({ length: 1001 }, (_, i) => i).join(',')}`, /exclude holds 1001 ids; at most 1000/],
      ['/recommend/1?exclude=1&exclude=2', /exclude must be string/],
      ['/recommend/1?experiment=..%2Fetc', /experiment must match pattern/],
    ];
    for (const [url, message] of cases) {
      const { status, body } = await get(url);
      assert.equal(status, 400, url);
      assert.equal(body.error, 'invalid_request', url);
      assert.match(body.message as string, message, url);
    }
  });

  it('accepts a 128-character id (unknown, so 404) and 1000 excluded ids', async () => {
    assert.equal((await get(`/recommend/${'1'.repeat(128)}`)).status, 404);
    assert.equal((await get(`/recommend/1?exclude=${Array.from({ length: 1000 }, (_, i) => i + 1000).join(',')}`)).status, 200);
  });

  it('answers 404 unknown_experiment for an experiment that is not configured', async () => {
    const { status, body } = await get('/recommend/1?experiment=other');
    assert.equal(status, 404);
    assert.equal(body.error, 'unknown_experiment');
  });

  it('answers JSON 404 for unknown routes and 404/405 for wrong methods, never 5xx', async () => {
    const res = await get('/nope');
    assert.equal(res.status, 404);
    assert.equal(res.body.error, 'not_found');
    const post = await stack.app.inject({ method: 'POST', url: '/recommend/1' });
    assert.ok(post.statusCode < 500);
  });
});

describe('OpenAPI', () => {
  it('documents every route with its schemas at /openapi.json and serves /docs', async () => {
    const { status, body } = await get('/openapi.json');
    assert.equal(status, 200);
    const paths = body.paths as Record<string, Record<string, { parameters?: { name: string }[]; responses: Record<string, unknown> }>>;
    for (const p of ['/recommend/{userId}', '/healthz', '/readyz', '/models']) assert.ok(paths[p], p);
    const recommend = paths['/recommend/{userId}']!.get!;
    assert.deepEqual(recommend.parameters!.map((p) => p.name).sort(), ['exclude', 'experiment', 'n', 'userId', 'x-recserve-variant']);
    assert.ok(recommend.responses['200'] && recommend.responses['400'] && recommend.responses['404']);
    // Fold-in, similar items and batches, each with its request schema and its answer.
    const post = paths['/recommend']!.post as unknown as { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> }; responses: Record<string, unknown> };
    assert.deepEqual(Object.keys(post.requestBody.content['application/json']!.schema.properties).sort(), ['exclude', 'excludeInteracted', 'experiment', 'interactions', 'n', 'userId']);
    assert.ok(post.responses['200'] && post.responses['400']);
    const similar = paths['/similar/{itemId}']!.get!;
    assert.deepEqual(similar.parameters!.map((p) => p.name).sort(), ['exclude', 'itemId', 'model', 'n']);
    const batch = paths['/recommend/batch']!.post as unknown as { responses: Record<string, { content?: Record<string, unknown> }> };
    assert.ok(batch.responses['200']!.content!['application/x-ndjson'], 'the batch answer is documented as NDJSON');
    const docs = await stack.app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(docs.statusCode, 200);
    assert.match(docs.body, /swagger/i);
  });
});
