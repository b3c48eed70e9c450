import { performance } from 'node:perf_hooks';
import type { ModelSnapshot } from '../model-store/snapshot.js';
import type { KernelName, ScoringKernel } from './kernel.js';

/** Batches of at least this many users are served by the kernel measured fastest on batches. */
export const BATCHED_FROM = 4;
/** The batch the chooser times for the batched choice. */
const MEASURED_BATCH = 8;
/**
 * Timed runs per kernel and batch size, after one warm-up: at least MIN_RUNS, and more (up to MAX_RUNS)
 * while they take under RUN_BUDGET_MS in all, so that a small model is timed often enough to see past
 * noise and a large one does not hold start-up back.
 */
const MIN_RUNS = 3;
const MAX_RUNS = 9;
const RUN_BUDGET_MS = 20;

export interface KernelTiming {
  kernel: KernelName;
  /** Median ms of one lone request, and of one batch of MEASURED_BATCH users. */
  loneMs: number;
  batchMs: number;
}

export interface KernelChoice {
  /** The kernel that serves lone requests and small batches, and the one that serves batches from BATCHED_FROM. */
  lone: ScoringKernel;
  batched: ScoringKernel;
  /** What was measured on this model to choose them (empty when only one kernel could serve it). */
  timings: KernelTiming[];
}

/** Users to time with: rows spread over the model (item rows when it has no users), the same for every kernel. */
function sampleUsers(model: ModelSnapshot, count: number): Float32Array {
  const { rank } = model;
  const [source, rows] = model.numUsers > 0 ? [model.userFactors, model.numUsers] : [model.itemFactors, model.numItems];
  const users = new Float32Array(count * rank);
  for (let i = 0; i < count; i++) {
    const row = Math.floor((i * rows) / count);
    users.set(source.subarray(row * rank, (row + 1) * rank), i * rank);
  }
  return users;
}

/** Milliseconds from some fixed point; the tests pass a clock the kernels advance. */
export type Clock = () => number;

async function medianMs(run: () => Promise<unknown>, clock: Clock): Promise<number> {
  await run();
  const times: number[] = [];
  for (let spent = 0; times.length < MIN_RUNS || (times.length < MAX_RUNS && spent < RUN_BUDGET_MS); ) {
    const start = clock();
    await run();
    times.push(clock() - start);
    spent += times.at(-1)!;
  }
  return times.sort((a, b) => a - b)[times.length >> 1]!;
}

/**
 * The kernels that may serve a model: those that accept it, and of those only the ones that scan off the
 * event loop when there are any (a kernel on the event loop holds every other request up while it runs).
 */
function candidatesFor(model: ModelSnapshot, kernels: readonly ScoringKernel[]): ScoringKernel[] {
  const accepting = kernels.filter((k) => k.accepts(model));
  const offLoop = accepting.filter((k) => k.offEventLoop);
  return offLoop.length > 0 ? offLoop : accepting;
}

/**
 * Prepares every candidate kernel for the model and, when there is a choice, times each on it for a
 * moment (top-10 of lone users and of a batch), so that the model is served by the fastest measured
 * here, on this machine's CPU, for its shape and encoding. Ties go to the earlier kernel in `kernels`.
 */
export async function chooseKernels(model: ModelSnapshot, kernels: readonly ScoringKernel[], clock: Clock = () => performance.now()): Promise<KernelChoice> {
  const candidates = candidatesFor(model, kernels);
  if (candidates.length === 0) throw new Error(`no configured scoring kernel accepts model ${model.name} (${model.itemEncoding})`);
  await Promise.all(candidates.map((k) => k.prepare(model)));
  if (candidates.length === 1 || model.numItems === 0) return { lone: candidates[0]!, batched: candidates[0]!, timings: [] };
  const lone = sampleUsers(model, 1);
  const batch = sampleUsers(model, MEASURED_BATCH);
  const k = Math.min(10, model.numItems);
  const timings: KernelTiming[] = [];
  for (const kernel of candidates) {
    timings.push({ kernel: kernel.name, loneMs: await medianMs(() => kernel.topK(model, lone, k), clock), batchMs: await medianMs(() => kernel.topK(model, batch, k), clock) });
  }
  const fastest = (key: 'loneMs' | 'batchMs') => candidates[timings.reduce((best, t, i) => (t[key] < timings[best]![key] ? i : best), 0)]!;
  return { lone: fastest('loneMs'), batched: fastest('batchMs'), timings };
}
