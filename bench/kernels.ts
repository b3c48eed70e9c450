import { loadBundle } from '../src/model-store/bundle-loader.js';
import type { ModelSnapshot } from '../src/model-store/snapshot.js';
import { createKernel, topN, type ScoredItem, type ScoringKernel } from '../src/scorers/index.js';
import { recallAtK } from '../src/scorers/recall.js';
import { loadNative } from '../src/native-addon.js';
import type { OnnxKernelOptions } from '../src/scorers/onnx-kernel.js';
import { summarize, type Timing } from './stats.js';
import { WasmSimdKernel } from './wasm-simd-kernel.js';

export interface KernelResult {
  model: string;
  kernel: string;
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

/** Times one top-10 request at a time after a warm-up. */
async function timeKernel(kernel: ScoringKernel, snapshot: ModelSnapshot, budgetMs: number): Promise<Timing> {
  const nextUser = userSequence(snapshot.numUsers);
  for (let i = 0; i < 5; i++) await topN(kernel, snapshot, nextUser(), 10, none);
  const times: number[] = [];
  const end = performance.now() + budgetMs;
  while ((performance.now() < end || times.length < 20) && times.length < 2000) {
    const t0 = performance.now();
    await topN(kernel, snapshot, nextUser(), 10, none);
    times.push(performance.now() - t0);
  }
  return summarize(times);
}

/** Exact float32 top-10 lists of evenly spread users, to measure recall against. */
async function exactLists(snapshot: ModelSnapshot, users: number): Promise<{ row: number; exact: ScoredItem[] }[]> {
  const kernel = createKernel('onnx', { threads: 2 });
  const lists = [];
  for (let i = 0; i < users; i++) {
    const row = Math.floor((i * snapshot.numUsers) / users);
    lists.push({ row, exact: await topN(kernel, snapshot, row, 10, none) });
  }
  await kernel.close();
  return lists;
}

/** The native scans through the onnx kernel, as the server runs them, with 1 and 2 threads. */
function nativeRuns(snapshot: ModelSnapshot, options: OnnxKernelOptions = {}): [string, ScoringKernel, ModelSnapshot, number][] {
  if (!native) return [];
  return [1, 2].map((threads) => ['native', createKernel('onnx', { threads, native, ...options }), snapshot, threads]);
}

export async function benchKernels(subjects: BenchSubject[], budgetMs: number, recallUsers = 500): Promise<KernelResult[]> {
  const results: KernelResult[] = [];
  for (const subject of subjects) {
    const int8 = await loadBundle(subject.label, subject.id, subject.dir);
    const float32: ModelSnapshot = Object.freeze({ ...int8, itemEncoding: 'float32' as const, itemCodes: null });
    const reference = await exactLists(float32, recallUsers);
    const candidates: [string, ScoringKernel, ModelSnapshot, number][] = [
      ['js', createKernel('js'), float32, 1],
      ['onnx', createKernel('onnx', { threads: 1 }), float32, 1],
      ['onnx', createKernel('onnx', { threads: 2 }), float32, 2],
      // The native float32 scan serves lone requests from rank 32 up; below, the kernel would use onnxruntime,
      // so it is forced here to show why.
      ...nativeRuns(float32, { nativeMinRank: 1 }),
      // The WebAssembly kernel takes f32x4 lanes: ranks that are multiples of 4 only.
      ...(int8.rank % 4 === 0 ? [['wasm-simd', await WasmSimdKernel.create(), float32, 1] as [string, ScoringKernel, ModelSnapshot, number]] : []),
      ['onnx', createKernel('onnx', { threads: 1, int8MinMatrixBytes: 0 }), int8, 1],
      ['onnx', createKernel('onnx', { threads: 2, int8MinMatrixBytes: 0 }), int8, 2],
      ...nativeRuns(int8),
    ];
    for (const [kernelName, kernel, snapshot, threads] of candidates) {
      const timing = await timeKernel(kernel, snapshot, budgetMs);
      let recall = 0;
      for (const { row, exact } of reference) recall += recallAtK(exact, await topN(kernel, snapshot, row, 10, none));
      results.push({ model: subject.label, kernel: kernelName, encoding: snapshot.itemEncoding, threads, timing, recall: recall / reference.length });
      await kernel.close();
    }
  }
  return results;
}
