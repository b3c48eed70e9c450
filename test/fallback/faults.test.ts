import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { tempDir } from '../helpers/fixtures.js';
import { freePort, startRedis } from '../helpers/redis.js';
import { servingStack } from '../helpers/serving.js';
import { publishSynth } from '../helpers/synth-feed.js';

// Room for a loaded machine (the suite runs two files at a time): a lookup that took longer than its timeout
// here would answer from the static list where the test expects Redis.
const BUDGET_MS = 500;

/** A stack for unknown users: cache first (whatever `cache` is), then a static list. */
async function faultStack(t: { after(fn: () => void): void }, cache: Record<string, unknown>) {
  const feed = tempDir(t);
  await publishSynth(feed, 'als', { users: 10, items: 20, rank: 4 });
  const file = path.join(feed, 'popular.json');
  writeFileSync(file, '["p1", "p2"]');
  const stack = await servingStack(feed, ['als'], undefined, {
    deadlineMs: BUDGET_MS,
    fallbacks: { cache: { timeoutMs: 200, breaker: { failures: 3, halfOpenAfterMs: 200 }, ...cache }, popular: { kind: 'static', file } },
    experiments: [{ name: 'e', salt: 's', variants: [{ name: 'v', weight: 1, recommender: 'als', fallback: ['cache', 'popular'] }] }],
  });
  t.after(() => stack.close());
  await stack.store.loadAll();
  /** One request for an unknown user: its status and source. (A request that hung would time the test out.) */
  const ask = async (userId: string) => {
    const res = await stack.app.inject({ method: 'GET', url: `/recommend/${userId}?n=2` });
    return { status: res.statusCode, source: (res.json() as { source: string }).source };
  };
  return { stack, ask };
}

describe('fallback faults', () => {
  it('Redis stopped in the middle of a request loop: every request answers 200 within the budget, and Redis is used again after it restarts', { timeout: 60_000 }, async (t) => {
    const redis = await startRedis();
    t.after(() => redis.stop());
    const seed = async () => {
      const admin = new Redis(redis.url);
      await admin.set('recserve:recs:v:ghost', JSON.stringify([{ itemId: 'r1', score: 1 }]));
      admin.disconnect();
    };
    await seed();
    const { ask } = await faultStack(t, { kind: 'redis', url: redis.url });
    const sources: string[] = [];
    const loop = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const r = await ask('ghost');
        assert.equal(r.status, 200);
        sources.push(r.source);
        await new Promise((res) => setTimeout(res, 5));
      }
    };
    await loop(20);
    assert.deepEqual(new Set(sources), new Set(['redis']));
    await redis.stop();
    await loop(40);
    assert.deepEqual(new Set(sources.slice(20)), new Set(['static']), 'answers from the static list while Redis is down');
    await redis.start();
    await seed();
    // ioredis reconnects in the background and the breaker lets a probe through after 200 ms.
    const deadline = Date.now() + 15_000;
    while (sources.at(-1) !== 'redis' && Date.now() < deadline) await loop(1);
    assert.equal(sources.at(-1), 'redis', 'Redis serves again after it restarts');
  });

  it('a Redis that accepts connections but never answers: requests still answer, from the static list', async (t) => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket)).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    t.after(() => {
      sockets.forEach((s) => s.destroy());
      silent.close();
    });
    const { port } = silent.address() as { port: number };
    const { ask, stack } = await faultStack(t, { kind: 'redis', url: `redis://127.0.0.1:${port}` });
    for (let i = 0; i < 10; i++) {
      const r = await ask(`ghost${i}`);
      assert.deepEqual([r.status, r.source], [200, 'static']);
    }
    const health = (await stack.app.inject({ method: 'GET', url: '/healthz' })).json() as { stores: { name: string; state: string }[] };
    assert.notEqual(health.stores[0]!.state, 'ready');
  });

  it('Cassandra contact points that refuse connections: the service starts, is ready, and answers', async (t) => {
    const port = await freePort();
    const { ask, stack } = await faultStack(t, { kind: 'cassandra', contactPoints: [`127.0.0.1:${port}`], connectTimeoutMs: 200 });
    assert.equal((await stack.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    for (let i = 0; i < 5; i++) {
      const r = await ask('ghost');
      assert.deepEqual([r.status, r.source], [200, 'static']);
    }
    assert.equal((await ask('3')).source, 'model');
    const health = (await stack.app.inject({ method: 'GET', url: '/healthz' })).json() as { stores: { name: string; state: string; breaker: string }[] };
    assert.deepEqual([health.stores[0]!.state, health.stores[0]!.breaker], ['disconnected', 'open']);
  });
});
