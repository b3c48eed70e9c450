import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ReferenceItems, ServedBatch } from './reference-topn.js';

function slice(batch: ServedBatch, from: number, to: number, rank: number): ServedBatch {
  return {
    n: batch.n,
    userIds: batch.userIds.slice(from, to),
    userFactors: batch.userFactors.slice(from * rank, to * rank),
    counts: batch.counts.slice(from, to),
    itemIds: batch.itemIds.slice(from * batch.n, to * batch.n),
    scores: batch.scores.slice(from * batch.n, to * batch.n),
  };
}

/** Brute-force checks every served list, split over one worker thread per core. */
export async function checkAllUsers(items: ReferenceItems, batch: ServedBatch): Promise<{ checked: number; failures: string[] }> {
  const workers = Math.max(1, Math.min(availableParallelism(), Math.ceil(batch.userIds.length / 500)));
  const per = Math.ceil(batch.userIds.length / workers);
  const results = await Promise.all(
    Array.from({ length: workers }, (_, w) =>
      new Promise<{ checked: number; failures: string[] }>((resolve, reject) => {
        // Node 20 workers do not inherit the parent's --import hooks: load the .ts entry through tsx's API.
        const entry = new URL('./reference-worker.ts', import.meta.url).href;
        const worker = new Worker(`import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`, {
          eval: true,
          workerData: { items, batch: slice(batch, w * per, Math.min(batch.userIds.length, (w + 1) * per), items.rank) },
        });
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
    ),
  );
  return { checked: results.reduce((s, r) => s + r.checked, 0), failures: results.flatMap((r) => r.failures) };
}
