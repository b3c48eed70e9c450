import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importSparkSave } from '../../src/spark/import.js';
import type { KernelName } from '../../src/scorers/index.js';
import { fixtureNames, fixturePath, LARGE_FIXTURE, optionalFixture, readSparkFactors, tempDir } from '../helpers/fixtures.js';
import { checkAllUsers } from '../helpers/reference-check.js';
import type { ReferenceItems, ServedBatch } from '../helpers/reference-topn.js';
import { servingStack } from '../helpers/serving.js';

const N = 10;
const IN_FLIGHT = 64;

function flatten(table: Map<number, Float32Array>, rank: number): { ids: Int32Array; factors: Float32Array } {
  const ids = Int32Array.from(table.keys());
  const factors = new Float32Array(ids.length * rank);
  [...table.values()].forEach((f, i) => factors.set(f, i * rank));
  return { ids, factors };
}

/** Serves top-10 to every user of a Spark save through the recommender, then brute-forces every answer. */
async function serveAndCheckEveryUser(fixture: string, kernels: readonly KernelName[] | undefined, t: { after(fn: () => void): void }) {
  const save = fixturePath(fixture);
  const feed = tempDir(t);
  const { manifest } = await importSparkSave(save, feed, 'als');
  const rank = manifest.rank;
  const items: ReferenceItems = { rank, ...flatten(await readSparkFactors(save, 'itemFactors'), rank) };
  const users = flatten(await readSparkFactors(save, 'userFactors'), rank);
  const stack = await servingStack(feed, ['als'], kernels);
  t.after(() => stack.close());
  await stack.store.loadAll();
  const batch: ServedBatch = {
    n: N,
    userIds: users.ids,
    userFactors: users.factors,
    counts: new Int32Array(users.ids.length),
    itemIds: new Int32Array(users.ids.length * N),
    scores: new Float32Array(users.ids.length * N),
  };
  // 64 requests in flight at a time, as concurrent clients send them: the scorer batches them.
  for (let first = 0; first < users.ids.length; first += IN_FLIGHT) {
    const rows = Array.from({ length: Math.min(IN_FLIGHT, users.ids.length - first) }, (_, i) => first + i);
    const answers = await Promise.all(rows.map((u) => stack.service.recommend({ userId: String(users.ids[u]), n: N, exclude: [] })));
    answers.forEach((answer, j) => {
      const u = rows[j]!;
      batch.counts[u] = answer.items.length;
      answer.items.forEach((item, i) => {
        batch.itemIds[u * N + i] = Number(item.itemId);
        batch.scores[u * N + i] = item.score;
      });
    });
  }
  assert.ok(stack.scorer.stats.largestBatch > 1, 'requests were batched');
  const { checked, failures } = await checkAllUsers(items, batch);
  assert.deepEqual(failures, []);
  assert.equal(checked, manifest.numUsers);
}

describe('served top-10 equals a brute-force float32 reference for every user of every Spark fixture', () => {
  for (const fixture of fixtureNames()) {
    it(`${fixture} (the kernels measured fastest)`, { timeout: 15 * 60_000 }, async (t) => {
      await serveAndCheckEveryUser(fixture, undefined, t);
    });
  }
  const large = optionalFixture(LARGE_FIXTURE);
  if ('skip' in large) it(`${LARGE_FIXTURE} (the kernels measured fastest)`, (t) => t.skip(large.skip));
  for (const fixture of fixtureNames().filter((f) => f !== LARGE_FIXTURE)) {
    for (const kernel of ['native-float32', 'onnx-float32', 'js'] as const) {
      it(`${fixture} (${kernel} alone)`, async (t) => {
        await serveAndCheckEveryUser(fixture, [kernel], t);
      });
    }
  }
});
