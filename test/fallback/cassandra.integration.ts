// Cassandra for real (the integration suite): the store contract every fallback source must pass,
// `load-recs --to cassandra`, the chain redis -> cassandra -> static, and Cassandra killed under load.
// A Cassandra 5.0 is started from Maven Central's jars on free ports (test/helpers/cassandra-server.ts)
// unless CASSANDRA_CONTACT_POINTS names one.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type cassandra from 'cassandra-driver';
import { Redis } from 'ioredis';
import { CassandraSource } from '../../src/fallback/cassandra-source.js';
import { runCli } from '../helpers/cli.js';
import { createTestSchema, ENV_CONTACT_POINTS, ENV_DC, TEST_KEYSPACE } from '../helpers/cassandra.js';
import { cassandraInstalled, startCassandra, type TestCassandra } from '../helpers/cassandra-server.js';
import { silentLogger, tempDir } from '../helpers/fixtures.js';
import { startRedis } from '../helpers/redis.js';
import { servingStack } from '../helpers/serving.js';
import { publishSynth } from '../helpers/synth-feed.js';
import { fallbackContract } from './contract.js';

const available = ENV_CONTACT_POINTS.length > 0 || cassandraInstalled();
let server: TestCassandra | undefined;
let contactPoints: string[] = ENV_CONTACT_POINTS;
let dc = ENV_DC;
let admin: cassandra.Client | undefined;
let corrupt = 0;
let run = 0;

const source = () =>
  new CassandraSource({ name: 'cassandra', contactPoints, localDataCenter: dc, keyspace: TEST_KEYSPACE, table: 'recommendations', consistency: 'localOne', connectTimeoutMs: 5000, readTimeoutMs: 5000, logger: silentLogger, onCorrupt: () => corrupt++ });

if (!available) {
  describe('Cassandra', () => {
    it('needs a Cassandra', (t) => {
      // Never skipped in CI: .ci/run runs scripts/setup-integration.sh, which fetches Cassandra's jars.
      assert.ok(!process.env.CI, 'CI must have Cassandra under tools/cassandra/target/dependency (scripts/setup-integration.sh)');
      t.skip('no Cassandra: run bash scripts/setup-integration.sh, or set CASSANDRA_CONTACT_POINTS');
    });
  });
} else {
  before(async () => {
    if (contactPoints.length === 0) {
      server = await startCassandra();
      contactPoints = [server.contactPoint];
      dc = server.localDataCenter;
      console.log(`Cassandra started in ${Math.round(server.startMs)} ms, ${Math.round(server.rssMb)} MB resident`);
    }
    admin = await createTestSchema(contactPoints, dc);
  });
  after(async () => {
    await admin?.shutdown();
    await server?.stop();
  });

  // Each seed writes under its own variant prefix, so tests never see each other's rows.
  let variantPrefix = '';
  fallbackContract({
    name: 'cassandra (real server)',
    perUser: true,
    async seed(lists) {
      variantPrefix = `r${run++}-`;
      const s = source();
      const prefixed = lists.map((l) => ({ ...l, variant: variantPrefix + l.variant }));
      if (prefixed.length > 0) await s.write(prefixed, 3600);
      return { kind: s.kind, name: s.name, inMemory: s.inMemory, state: () => s.state(), close: () => s.close(), lookup: (variant: string, userId: string, n: number) => s.lookup(variantPrefix + variant, userId, n) };
    },
    writeRaw: async (variant, userId, raw) =>
      void (await admin!.execute(`INSERT INTO ${TEST_KEYSPACE}.recommendations (variant, user_id, items) VALUES (?, ?, ?)`, [variantPrefix + variant, userId, raw], { prepare: true })),
    corruptCount: () => corrupt,
  });

  describe('Cassandra in the serving path', () => {
    it('load-recs --to cassandra, then the chain redis -> cassandra -> static, then Cassandra killed under load', { timeout: 300_000 }, async (t) => {
      const dir = tempDir(t);
      // Users 100..199 in Cassandra (loaded by the CLI), 200..299 in Redis, the rest only in the static list.
      const lines = Array.from({ length: 100 }, (_, i) => JSON.stringify({ user: 100 + i, recommendations: [{ item: 7000 + i, rating: 2.5 }, { item: 1, rating: 1 }] }));
      writeFileSync(path.join(dir, 'recs.json'), lines.join('\n') + '\n');
      const loaded = await runCli(['load-recs', '--input', path.join(dir, 'recs.json'), '--to', 'cassandra', '--contact-points', contactPoints.join(','), '--local-dc', dc, '--keyspace', TEST_KEYSPACE, '--variant', 'v']);
      assert.equal(loaded.code, 0, loaded.stderr);
      assert.match(loaded.stdout, /loaded 100 users into cassandra/);
      const redis = await startRedis();
      t.after(() => redis.stop());
      const client = new Redis(redis.url);
      for (let u = 200; u < 300; u++) await client.set(`recserve:recs:v:${u}`, JSON.stringify([{ itemId: `r${u}`, score: 3 }]));
      client.disconnect();
      const feed = tempDir(t);
      await publishSynth(feed, 'als', { users: 10, items: 20, rank: 4 });
      const popular = path.join(dir, 'popular.json');
      writeFileSync(popular, '["p1", "p2"]');
      const stack = await servingStack(feed, ['als'], undefined, {
        deadlineMs: 2000,
        fallbacks: {
          cache: { kind: 'redis', url: redis.url, timeoutMs: 500 },
          wide: { kind: 'cassandra', contactPoints, localDataCenter: dc, keyspace: TEST_KEYSPACE, timeoutMs: 500, breaker: { failures: 3, halfOpenAfterMs: 60_000 } },
          popular: { kind: 'static', file: popular },
        },
        experiments: [{ name: 'e', salt: 's', variants: [{ name: 'v', weight: 1, recommender: 'als', fallback: ['cache', 'wide', 'popular'] }] }],
      });
      t.after(() => stack.close());
      await stack.store.loadAll();
      const ask = async (userId: number) => {
        const res = await stack.app.inject({ method: 'GET', url: `/recommend/${userId}?n=2` });
        return { status: res.statusCode, body: res.json() as { source: string; items: { itemId: string }[]; fallbackReason: string | null } };
      };
      assert.equal((await ask(3)).body.source, 'model');
      const fromCassandra = await ask(150);
      assert.deepEqual([fromCassandra.body.source, fromCassandra.body.items[0]!.itemId], ['cassandra', '7050']);
      assert.equal((await ask(250)).body.source, 'redis');
      assert.equal((await ask(999)).body.source, 'static');

      if (!server) return t.diagnostic('an external Cassandra (CASSANDRA_CONTACT_POINTS) is not killed');
      // Killed in the middle of a request loop for Cassandra's users: every request still answers 200, from the static list after.
      const sources: string[] = [];
      let running = true;
      const loop = (async () => {
        for (let i = 0; running; i++) {
          const r = await ask(100 + (i % 100));
          assert.equal(r.status, 200);
          sources.push(r.body.source);
        }
      })();
      while (sources.length < 50) await new Promise((r) => setTimeout(r, 10));
      const beforeKill = sources.length;
      await server.kill();
      const atKill = sources.length;
      while (sources.length < atKill + 50) await new Promise((r) => setTimeout(r, 10));
      running = false;
      await loop;
      const before = sources.slice(0, beforeKill);
      t.diagnostic(`before the kill: ${JSON.stringify(Object.fromEntries([...new Set(before)].map((k) => [k, before.filter((s) => s === k).length])))}; after: ${JSON.stringify(sources.slice(atKill))}`);
      assert.ok(before.every((s) => s === 'cassandra'), 'Cassandra answers its users until it dies');
      assert.deepEqual(new Set(sources.slice(-20)), new Set(['static']), 'after the kill the static list answers');
    });
  });
}
