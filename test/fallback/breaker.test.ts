// The circuit breaker of a fallback store opens on the store's own failures only: one user's corrupt
// entry, or lookups cut short by the request's deadline, must not cost every other user the store.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { GuardedSource } from '../../src/fallback/guarded.js';
import { RedisSource } from '../../src/fallback/redis-source.js';
import { silentLogger, tempDir } from '../helpers/fixtures.js';
import { useRedis } from '../helpers/redis.js';
import { servingStack } from '../helpers/serving.js';
import { publishSynth } from '../helpers/synth-feed.js';

const redis = useRedis();
const LIST = JSON.stringify([{ itemId: 'r1', score: 1 }]);

describe('fallback circuit breaker', () => {
  it("a key of the wrong type is a corrupt entry for that user only: the breaker stays closed for everyone else", async (t) => {
    await redis.admin.hset('recserve:recs:v:hashy', 'itemId', 'x');
    await redis.admin.rpush('recserve:recs:v:listy', 'x');
    await redis.admin.set('recserve:recs:v:garbled', '{not json');
    await redis.admin.set('recserve:recs:v:ghost', LIST);
    const feed = tempDir(t);
    await publishSynth(feed, 'als', { users: 10, items: 20, rank: 4 });
    const file = path.join(feed, 'popular.json');
    writeFileSync(file, '["p1", "p2"]');
    const stack = await servingStack(feed, ['als'], undefined, {
      fallbacks: { cache: { kind: 'redis', url: redis.url, breaker: { failures: 3, halfOpenAfterMs: 60_000 } }, popular: { kind: 'static', file } },
      experiments: [{ name: 'e', salt: 's', variants: [{ name: 'v', weight: 1, recommender: 'als', fallback: ['cache', 'popular'] }] }],
    });
    t.after(() => stack.close());
    await stack.store.loadAll();
    const source = async (userId: string) => {
      const res = await stack.app.inject({ method: 'GET', url: `/recommend/${userId}?n=2` });
      assert.equal(res.statusCode, 200, res.body);
      return (res.json() as { source: string }).source;
    };
    for (let i = 0; i < 4; i++) for (const bad of ['hashy', 'listy', 'garbled']) assert.equal(await source(bad), 'static');
    assert.equal(await source('ghost'), 'redis', 'users with valid keys still get their cached list');
    const health = (await stack.app.inject({ method: 'GET', url: '/healthz' })).json() as { stores: { name: string; breaker: string }[] };
    assert.equal(health.stores.find((s) => s.name === 'cache')!.breaker, 'closed');
    const metrics = (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /recserve_cache_corrupt_payloads_total\{store="cache"\} 12\b/);
  });

  it("lookups cut short by the request's deadline do not open the breaker; the store's own timeouts do", async (t) => {
    await redis.admin.set('recserve:recs:v:ghost', LIST);
    const store = new RedisSource({ name: 'cache', url: redis.url, keyTemplate: 'recserve:recs:{variant}:{userId}', connectTimeoutMs: 2000, commandTimeoutMs: 10_000, logger: silentLogger });
    t.after(() => store.close());
    const guarded = new GuardedSource(store, { timeoutMs: 100, failures: 3, halfOpenAfterMs: 60_000, logger: silentLogger });
    // Connected first, without a timeout: on a loaded machine connecting alone can take 100 ms.
    assert.notEqual(await store.lookup('v', 'ghost', 2), null);
    assert.equal((await guarded.lookup('v', 'ghost', 2, 1000)).outcome, 'hit');
    // A healthy Redis that answers late, as one does to a process starved of CPU: every client's replies wait for the pause.
    await redis.admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
    for (let i = 0; i < 10; i++) assert.equal((await guarded.lookup('v', 'ghost', 2, 5)).outcome, 'timeout');
    assert.equal(guarded.breakerState, 'closed', 'ten deadline cuts leave the breaker closed');
    for (let i = 0; i < 3; i++) assert.equal((await guarded.lookup('v', 'ghost', 2, 1000)).outcome, 'timeout');
    assert.equal(guarded.breakerState, 'open', "three of the store's own timeouts open it");
    assert.equal((await guarded.lookup('v', 'ghost', 2, 1000)).outcome, 'open');
  });
});
