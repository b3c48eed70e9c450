import type { KernelName } from '../../src/scorers/index.js';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { publishOnnxBundle } from '../../src/model-store/onnx-bundle.js';
import { tempDir } from '../helpers/fixtures.js';
import { linearTanhModel } from '../helpers/onnx-models.js';
import { useRedis } from '../helpers/redis.js';
import { servingStack } from '../helpers/serving.js';
import { publishSynth } from '../helpers/synth-feed.js';

const redis = useRedis();

const cached = [{ itemId: 'r1', score: 9 }, { itemId: 'r2', score: 8 }, { itemId: 'r3', score: 7 }];
const popular = ['p1', 'p2', 'p3'];

interface Body {
  items: { itemId: string; score: number }[];
  source: string;
  fallbackReason: string | null;
  variant: string;
  model: unknown;
}

/** A stack whose variant `v` uses `recommender`, then the Redis cache, then a static list. */
async function chainStack(t: { after(fn: () => void): void }, options: { models?: string[]; publish?: boolean; recommenders?: Record<string, unknown>; recommender?: string; fallback?: string[]; deadlineMs?: number; kernels?: KernelName[]; shape?: { users: number; items: number; rank: number }; writeBehind?: unknown; keyPrefix?: string } = {}) {
  const feed = tempDir(t);
  if (options.publish !== false) await publishSynth(feed, 'als', options.shape ?? { users: 50, items: 40, rank: 4 });
  const file = path.join(feed, 'popular.json');
  writeFileSync(file, JSON.stringify(popular));
  const keyTemplate = `${options.keyPrefix ?? 'chain'}:{variant}:{userId}`;
  const stack = await servingStack(feed, options.models ?? ['als'], options.kernels, {
    deadlineMs: options.deadlineMs ?? 1000,
    // The lookup's own timeout as long as the deadline: the first lookup also connects, and the suite runs two files at a time.
    fallbacks: { cache: { kind: 'redis', url: redis.url, keyTemplate, timeoutMs: 1000 }, popular: { kind: 'static', file } },
    recommenders: options.recommenders ?? { als: { kind: 'als', model: 'als' } },
    experiments: [{ name: 'e', salt: 's', variants: [{ name: 'v', weight: 1, recommender: options.recommender ?? 'als', fallback: options.fallback ?? ['cache', 'popular'], ...(options.writeBehind ? { writeBehind: options.writeBehind } : {}) }] }],
  });
  t.after(() => stack.close());
  await stack.store.loadAll();
  await redis.admin.set(`${options.keyPrefix ?? 'chain'}:v:cached-user`, JSON.stringify(cached));
  const get = async (userId: string) => {
    const res = await stack.app.inject({ method: 'GET', url: `/recommend/${encodeURIComponent(userId)}?n=3` });
    return { status: res.statusCode, body: res.json() as Body, headers: res.headers };
  };
  return { stack, feed, get };
}

describe('the fallback chain', () => {
  it('is not used when the model answers', async (t) => {
    const { get } = await chainStack(t);
    const { status, body, headers } = await get('7');
    assert.equal(status, 200);
    assert.deepEqual([body.source, body.fallbackReason], ['model', null]);
    assert.equal(headers['x-recserve-source'], 'model');
  });

  it('answers an unknown user from Redis, then from the static list', async (t) => {
    const { get } = await chainStack(t);
    const fromRedis = await get('cached-user');
    assert.deepEqual([fromRedis.status, fromRedis.body.source, fromRedis.body.fallbackReason], [200, 'redis', 'unknown_user']);
    assert.deepEqual(fromRedis.body.items, cached);
    assert.equal(fromRedis.headers['x-recserve-source'], 'redis');
    assert.equal(fromRedis.body.model, null);
    const fromStatic = await get('nobody-knows-me');
    assert.deepEqual([fromStatic.body.source, fromStatic.body.fallbackReason], ['static', 'unknown_user']);
    assert.deepEqual(fromStatic.body.items.map((i) => i.itemId), popular);
  });

  it('serves a corrupt cached value as a miss (200 from the next source), and counts it', async (t) => {
    const { get, stack } = await chainStack(t);
    await redis.admin.set('chain:v:corrupt-user', '[{"itemId": 5}');
    const { status, body } = await get('corrupt-user');
    assert.deepEqual([status, body.source, body.fallbackReason], [200, 'static', 'unknown_user']);
    await get('cached-user');
    const metrics = (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /recserve_cache_corrupt_payloads_total\{store="cache"\} 1/);
    assert.match(metrics, /recserve_cache_lookups_total\{store="cache",result="hit"\} 1/);
    assert.match(metrics, /recserve_fallbacks_total\{variant="v",source="static",reason="unknown_user"\} 1/);
    assert.match(metrics, /recserve_fallbacks_total\{variant="v",source="redis",reason="unknown_user"\} 1/);
  });

  it('answers 404 unknown_user only when every source misses', async (t) => {
    const { get } = await chainStack(t, { fallback: ['cache'] });
    const { status, body } = await get('nobody-knows-me');
    assert.equal(status, 404);
    assert.equal((body as unknown as { error: string }).error, 'unknown_user');
  });

  it('falls back with model_unavailable while the model is not loaded', async (t) => {
    const { get, stack } = await chainStack(t, { publish: false });
    assert.equal(stack.store.ready, false);
    const { status, body } = await get('cached-user');
    assert.deepEqual([status, body.source, body.fallbackReason], [200, 'redis', 'model_unavailable']);
  });

  it('falls back with error when scoring throws', async (t) => {
    const { get, feed, stack } = await chainStack(t, {
      models: ['als', 'net'],
      recommenders: { net: { kind: 'onnx', model: 'net', factors: 'als' } },
      recommender: 'net',
    });
    // A graph scoring 5 items for a model of 40 fails every request.
    await publishOnnxBundle(linearTanhModel(new Float32Array(4 * 5), new Float32Array(5), 4), { feedRoot: feed, name: 'net', source: 'test' });
    await stack.store.loadAll();
    const { status, body } = await get('7');
    assert.deepEqual([status, body.source, body.fallbackReason], [200, 'static', 'error']);
  });

  it('skips a model that would miss the deadline and answers from the chain', async (t) => {
    // 300,000 x 32 with the plain TypeScript kernel takes tens of milliseconds; the budget is 5 ms.
    const { get } = await chainStack(t, { kernels: ['js'], deadlineMs: 5, shape: { users: 10, items: 300_000, rank: 32 } });
    const first = await get('3');
    assert.equal(first.body.source, 'model', 'the first request measures the model');
    const second = await get('3');
    assert.deepEqual([second.status, second.body.source, second.body.fallbackReason], [200, 'static', 'deadline']);
  });

  it('writes model answers behind to Redis, so a later outage serves the last list', async (t) => {
    const { get } = await chainStack(t, { writeBehind: { to: 'cache', ttlSeconds: 60 }, keyPrefix: 'wb' });
    const served = await get('11');
    assert.equal(served.body.source, 'model');
    let stored: string | null = null;
    for (let i = 0; i < 50 && stored === null; i++) {
      stored = await redis.admin.get('wb:v:11');
      if (stored === null) await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(JSON.parse(stored!), served.body.items);
    assert.ok((await redis.admin.ttl('wb:v:11')) > 0);
    // The same variant with its model gone: the user gets their last computed list from Redis.
    const outage = await chainStack(t, { publish: false, keyPrefix: 'wb' });
    const later = await outage.get('11');
    assert.deepEqual([later.body.source, later.body.fallbackReason], ['redis', 'model_unavailable']);
    assert.deepEqual(later.body.items, served.body.items);
  });

  it('filters excluded items out of fallback lists too', async (t) => {
    const { stack } = await chainStack(t);
    const res = await stack.app.inject({ method: 'GET', url: '/recommend/cached-user?n=3&exclude=r1' });
    assert.deepEqual((res.json() as Body).items, cached.slice(1));
  });

  it('reports each store in /healthz', async (t) => {
    const { stack } = await chainStack(t);
    const health = (await stack.app.inject({ method: 'GET', url: '/healthz' })).json() as { stores: { name: string; kind: string; state: string; breaker: string }[] };
    assert.deepEqual(health.stores.map((s) => [s.name, s.kind, s.breaker]), [['cache', 'redis', 'closed'], ['popular', 'static', 'closed']]);
  });
});
