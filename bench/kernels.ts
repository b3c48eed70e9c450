import { loadBundle } from '../src/model-store/bundle-loader.js';
import { createKernel, topN, type ScoringKernel } from '../src/scorers/index.js';
import { benchModel, type Shape } from './feed.js';
import { summarize, type Timing } from './stats.js';
import { WasmSimdKernel } from './wasm-simd-kernel.js';

export interface KernelResult {
  shape: string;
  kernel: string;
  timing: Timing;
}

/** Times one top-10 request at a time, for random users, after a warm-up. */
async function timeKernel(kernel: ScoringKernel, shape: Shape, snapshot: Awaited<ReturnType<typeof loadBundle>>, budgetMs: number): Promise<Timing> {
  let seed = 12345;
  const nextUser = () => (seed = (seed * 1103515245 + 12345) >>> 0) % snapshot.numUsers;
  const none = new Set<number>();
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

export async function benchKernels(shapes: Shape[], budgetMs: number): Promise<KernelResult[]> {
  const results: KernelResult[] = [];
  for (const shape of shapes) {
    const update = await benchModel(shape);
    const snapshot = await loadBundle(shape.name, update.id, update.dir);
    const candidates: [string, ScoringKernel][] = [
      ['js', createKernel('js')],
      ['onnx, 1 thread', createKernel('onnx', { threads: 1 })],
      ['onnx, 2 threads', createKernel('onnx', { threads: 2 })],
      ['wasm-simd', await WasmSimdKernel.create()],
    ];
    for (const [label, kernel] of candidates) {
      results.push({ shape: shape.name, kernel: label, timing: await timeKernel(kernel, shape, snapshot, budgetMs) });
      await kernel.close();
    }
  }
  return results;
}
