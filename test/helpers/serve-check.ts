import assert from 'node:assert/strict';
import { importSparkSave } from '../../src/spark/import.js';
import type { KernelName } from '../../src/scorers/index.js';
import { fixturePath, readSparkFactors, tempDir } from './fixtures.js';
import { checkAllUsers } from './reference-check.js';
import type { ReferenceItems, ServedBatch } from './reference-topn.js';
import { servingStack } from './serving.js';

const N = 10;
const IN_FLIGHT = 64;

function sampled(users: { ids: Int32Array; factors: Float32Array }, rank: number, every: number): { ids: Int32Array; factors: Float32Array } {
  if (every === 1) return users;
  const ids = users.ids.filter((_, i) => i % every === 0);
  const factors = new Float32Array(ids.length * rank);
  ids.forEach((_, i) => factors.set(users.factors.subarray(i * every * rank, (i * every + 1) * rank), i * rank));
  return { ids, factors };
}

function flatten(table: Map<number, Float32Array>, rank: number): { ids: Int32Array; factors: Float32Array } {
  const ids = Int32Array.from(table.keys());
  const factors = new Float32Array(ids.length * rank);
  [...table.values()].forEach((f, i) => factors.set(f, i * rank));
  return { ids, factors };
}

/**
 * Serves top-10 through the recommender to every user of a Spark save (or every `every`-th, in the order of
 * the save), then brute-forces every answer.
 */
export async function serveAndCheckUsers(
  fixture: string,
  kernels: readonly KernelName[] | undefined,
  t: { after(fn: () => void): void },
  every = 1,
  served?: KernelName,
): Promise<void> {
  const save = fixturePath(fixture);
  const feed = tempDir(t);
  const { manifest } = await importSparkSave(save, feed, 'als');
  const rank = manifest.rank;
  const items: ReferenceItems = { rank, ...flatten(await readSparkFactors(save, 'itemFactors'), rank) };
  const users = sampled(flatten(await readSparkFactors(save, 'userFactors'), rank), rank, every);
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
  if (served) assert.equal(stack.scorer.stats.kernels[served], stack.scorer.stats.runs, `every run took ${served}`);
  const { checked, failures } = await checkAllUsers(items, batch);
  assert.deepEqual(failures, []);
  assert.equal(checked, Math.ceil(manifest.numUsers / every));
}
