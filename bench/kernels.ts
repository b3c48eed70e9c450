import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { loadBundle } from '../src/model-store/bundle-loader.js';
import type { ModelSnapshot } from '../src/model-store/snapshot.js';
import { loadNative } from '../src/native-addon.js';
import { createKernels, Scorer, topN, type KernelName, type ScoredItem } from '../src/scorers/index.js';
import { recallAtK } from '../test/helpers/recall.js';
import { summarize, type Timing } from './stats.js';

export interface KernelResult {
  model: string;
  kernel: KernelName | 'faiss-flat-ip';
  encoding: 'float32' | 'int8';
  threads: number;
  timing: Timing;
  /** Mean recall@10 against the exact float32 kernel; 1 for exact kernels. */
  recall: number;
}

export interface BenchSubject {
  label: string;
  /** An update holding int8 codes; the float32 kernels run on the same mapping without them. */
  id: string;
  dir: string;
}

const none = new Set<number>();
const native = loadNative();

/** Users for timing: a fixed pseudo-random sequence, the same for every kernel. */
function userSequence(numUsers: number): () => number {
  let seed = 12345;
  return () => (seed = (seed * 1103515245 + 12345) >>> 0) % numUsers;
}

/** One kernel alone, as the server runs it for lone requests. */
function only(kernel: KernelName, threads: number): Scorer {
  return new Scorer({ kernels: createKernels([kernel], { threads, rescoreCandidates: 100, native }), batching: false, maxBatch: 1, gatherMs: 0 });
}

/** Times one top-10 request at a time after a warm-up. */
async function timeScorer(scorer: Scorer, snapshot: ModelSnapshot, budgetMs: number): Promise<Timing> {
  const nextUser = userSequence(snapshot.numUsers);
  for (let i = 0; i < 5; i++) await topN(scorer, snapshot, nextUser(), 10, none);
  const times: number[] = [];
  const end = performance.now() + budgetMs;
  while ((performance.now() < end || times.length < 20) && times.length < 2000) {
    const t0 = performance.now();
    await topN(scorer, snapshot, nextUser(), 10, none);
    times.push(performance.now() - t0);
  }
  return summarize(times);
}

/** Exact float32 top-10 lists of evenly spread users, to measure recall against. */
async function exactLists(snapshot: ModelSnapshot, users: number): Promise<{ row: number; exact: ScoredItem[] }[]> {
  const scorer = only('onnx-float32', 2);
  const lists = [];
  for (let i = 0; i < users; i++) {
    const row = Math.floor((i * snapshot.numUsers) / users);
    lists.push({ row, exact: await topN(scorer, snapshot, row, 10, none) });
  }
  await scorer.close();
  return lists;
}

/** FAISS IndexFlatIP on the same item matrix (1 thread, as the FAISS peer runs), if faiss-cpu is installed. */
function faissTiming(dir: string, rank: number, budgetMs: number): Timing | null {
  try {
    const out = execFileSync('python3', ['bench/faiss_kernel.py', path.join(dir, 'item-factors.f32'), path.join(dir, 'user-factors.f32'), String(rank), '1', String(budgetMs)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return JSON.parse(out) as Timing;
  } catch {
    return null;
  }
}

export async function benchKernels(subjects: BenchSubject[], budgetMs: number, recallUsers = 500): Promise<KernelResult[]> {
  const results: KernelResult[] = [];
  for (const subject of subjects) {
    const int8 = await loadBundle(subject.label, subject.id, subject.dir);
    const float32: ModelSnapshot = Object.freeze({ ...int8, itemEncoding: 'float32' as const, itemCodes: null });
    const reference = await exactLists(float32, recallUsers);
    const runs: [KernelName, ModelSnapshot, number][] = [
      ['js', float32, 1],
      ...[1, 2].flatMap((threads): [KernelName, ModelSnapshot, number][] => [
        ['onnx-float32', float32, threads],
        ...(native ? [['native-float32', float32, threads] as [KernelName, ModelSnapshot, number]] : []),
        ['onnx-int8', int8, threads],
        ...(native ? [['native-int8', int8, threads] as [KernelName, ModelSnapshot, number]] : []),
      ]),
    ];
    for (const [kernel, snapshot, threads] of runs) {
      const scorer = only(kernel, threads);
      const timing = await timeScorer(scorer, snapshot, budgetMs);
      let recall = 0;
      for (const { row, exact } of reference) recall += recallAtK(exact, await topN(scorer, snapshot, row, 10, none));
      results.push({ model: subject.label, kernel, encoding: snapshot.itemEncoding, threads, timing, recall: recall / reference.length });
      await scorer.close();
    }
    const faiss = faissTiming(subject.dir, int8.rank, budgetMs);
    if (faiss) results.push({ model: subject.label, kernel: 'faiss-flat-ip', encoding: 'float32', threads: 1, timing: faiss, recall: 1 });
  }
  return results;
}
