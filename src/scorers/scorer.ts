import type { ModelSnapshot } from '../model-store/snapshot.js';
import { BATCHED_FROM, chooseKernels, type Clock, type KernelChoice } from './choose.js';
import { KERNEL_NAMES, userVector, type KernelName, type ScoringKernel, type TopK } from './kernel.js';

interface Pending {
  userRow: number;
  k: number;
  resolve: (result: TopK) => void;
  reject: (err: unknown) => void;
}

export interface ScorerOptions {
  /** The kernels it may use, in order of preference when measured equal. */
  kernels: readonly ScoringKernel[];
  /** Continuous batching: while a run is in flight for a model, its new requests wait and the next run takes them all. */
  batching: boolean;
  /** The most requests one run takes (the oldest first). */
  maxBatch: number;
  /** What the chooser times kernels with (tests pass their own). */
  clock?: Clock;
}

/**
 * Dispatches each request to the kernel chosen for its model, and batches them: one run per model at a
 * time; requests that arrive meanwhile queue (FIFO) and the next run takes up to `maxBatch` of them, so
 * one pass over the item matrix serves them all and a request waits at most about one run's time.
 */
export class Scorer {
  private readonly kernels: readonly ScoringKernel[];
  private readonly batching: boolean;
  private readonly maxBatch: number;
  private readonly clock: Clock | undefined;
  private readonly choices = new WeakMap<ModelSnapshot, Promise<KernelChoice>>();
  private readonly queues = new Map<ModelSnapshot, Pending[]>();
  /** Runs and the requests they answered (requests / runs is the mean batch), runs per kernel, the largest batch. */
  readonly stats = { runs: 0, requests: 0, largestBatch: 0, kernels: Object.fromEntries(KERNEL_NAMES.map((n) => [n, 0])) as Record<KernelName, number> };

  constructor({ kernels, batching, maxBatch, clock }: ScorerOptions) {
    this.kernels = kernels;
    this.clock = clock;
    this.batching = batching;
    this.maxBatch = batching ? maxBatch : 1;
  }

  /** Chooses (measuring when there is a choice) and prepares the kernels for a model; once per snapshot. */
  prepare(model: ModelSnapshot): Promise<KernelChoice> {
    let choice = this.choices.get(model);
    if (!choice) {
      choice = chooseKernels(model, this.kernels, this.clock);
      choice.catch(() => this.choices.delete(model));
      this.choices.set(model, choice);
    }
    return choice;
  }

  topK(model: ModelSnapshot, userRow: number, k: number): Promise<TopK> {
    return new Promise((resolve, reject) => {
      const pending: Pending = { userRow, k, resolve, reject };
      if (!this.batching) return void this.serve(model, [pending]);
      const queue = this.queues.get(model);
      if (queue) return void queue.push(pending);
      this.queues.set(model, [pending]);
      void this.drain(model);
    });
  }

  /** Runs batches for a model until its queue is empty; the queue's presence marks a run in flight. */
  private async drain(model: ModelSnapshot): Promise<void> {
    const queue = this.queues.get(model)!;
    while (queue.length > 0) await this.serve(model, queue.splice(0, this.maxBatch));
    this.queues.delete(model);
  }

  private async serve(model: ModelSnapshot, batch: Pending[]): Promise<void> {
    try {
      const choice = await this.prepare(model);
      const kernel = batch.length >= BATCHED_FROM ? choice.batched : choice.lone;
      const k = Math.max(...batch.map((p) => p.k));
      const users = new Float32Array(batch.length * model.rank);
      batch.forEach((p, i) => users.set(userVector(model, p.userRow), i * model.rank));
      this.count(kernel.name, batch.length);
      const lists = await kernel.topK(model, users, k);
      batch.forEach((p, i) => p.resolve(firstK(lists[i]!, p.k)));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  private count(kernel: KernelName, requests: number): void {
    this.stats.runs++;
    this.stats.requests += requests;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, requests);
    this.stats.kernels[kernel]++;
  }

  async close(): Promise<void> {
    await Promise.all(this.kernels.map((k) => k.close()));
  }
}

/** A list cut to its first k (kernels answer a batch with the largest k asked). */
function firstK({ rows, scores }: TopK, k: number): TopK {
  if (rows.length <= k) return { rows, scores };
  const head = <T extends ArrayLike<number>>(list: T): ArrayLike<number> => ('subarray' in list ? (list as unknown as Int32Array).subarray(0, k) : Array.prototype.slice.call(list, 0, k));
  return { rows: head(rows), scores: head(scores) };
}
