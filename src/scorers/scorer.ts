import { performance } from 'node:perf_hooks';
import { findRow } from '../model-store/factors.js';
import type { ModelSnapshot } from '../model-store/snapshot.js';
import { BATCHED_FROM, chooseKernels, type Clock, type KernelChoice } from './choose.js';
import { KERNEL_NAMES, userVector, type Exclusions, type KernelName, type ScoringKernel, type TopK } from './kernel.js';

/** A user's row of the model, or a user vector computed for the request (fold-in, a similar-items query). */
export type Query = number | Float32Array;

interface Pending {
  query: Query;
  k: number;
  /** Rows it must not get, ascending. */
  exclude: Int32Array;
  resolve: (result: TopK) => void;
  reject: (err: unknown) => void;
}

/**
 * A model's waiting requests: live ones (someone is waiting for the answer) and background ones (batch
 * lines), each oldest first; and the scans that take them.
 */
interface Queue {
  live: Pending[];
  background: Pending[];
  /** Whether the main scan loop runs (drain): it takes live requests first, then background ones. */
  main: boolean;
  /** Background scans running beside it (drainBackground). */
  beside: number;
  /** Whether background scans start once this turn's batch lines are all queued (startBackground). */
  starting: boolean;
}

export interface ScorerOptions {
  /** The kernels it may use, in order of preference when measured equal. */
  kernels: readonly ScoringKernel[];
  /** Continuous batching: while a run is in flight for a model, its new requests wait and the next run takes them all. */
  batching: boolean;
  /** The most requests one run takes (live ones first, oldest first; see take). */
  maxBatch: number;
  /** The longest a run starting from idle waits for the rest of a batch (see gather), in ms. */
  gatherMs: number;
  /**
   * Scans that take the background requests (batch lines) beside the main one, in even shares, oldest
   * first; the main loop then takes them only beside live requests. Kernels run them at a lower priority
   * where they can (see NativeKernel), so they take what CPU is left. 0: the main loop takes them all.
   */
  backgroundScans?: number;
  /**
   * The most batch lines a background scan takes: by default eight runs' worth, which the native int8 scan
   * scores in one round over the items (native/int8.c reads each chunk of items once for eight passes).
   */
  backgroundBatch?: number;
  /** What the chooser times kernels with (tests pass their own). */
  clock?: Clock;
}

/**
 * Dispatches each request to the kernel chosen for its model, and batches them: one run per model at a
 * time; requests that arrive meanwhile queue and the next run takes up to `maxBatch` of them, so one pass
 * over the item matrix serves them all and a live request waits at most about one run's time, even behind
 * a batch of 1,000 background ones.
 */
export class Scorer {
  private readonly kernels: readonly ScoringKernel[];
  private readonly batching: boolean;
  private readonly maxBatch: number;
  private readonly clock: Clock | undefined;
  private readonly gatherMs: number;
  private readonly backgroundScans: number;
  private readonly backgroundBatch: number;
  private readonly choices = new WeakMap<ModelSnapshot, Promise<KernelChoice>>();
  private readonly queues = new Map<ModelSnapshot, Queue>();
  private readonly lastBatch = new WeakMap<ModelSnapshot, number>();
  /** Runs and the requests they answered (requests / runs is the mean batch), runs per kernel, the largest batch. */
  readonly stats = { runs: 0, requests: 0, largestBatch: 0, kernels: Object.fromEntries(KERNEL_NAMES.map((n) => [n, 0])) as Record<KernelName, number> };

  constructor({ kernels, batching, maxBatch, gatherMs, backgroundScans = 0, backgroundBatch = BACKGROUND_RUNS * maxBatch, clock }: ScorerOptions) {
    this.kernels = kernels;
    this.backgroundScans = backgroundScans;
    this.backgroundBatch = backgroundBatch;
    this.gatherMs = gatherMs;
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

  /**
   * The best `k` rows for a query, never one of `exclude` (ascending rows): fewer when too few rows are
   * left. A `background` query (a batch line) is scored after the live ones that wait with it.
   */
  topK(model: ModelSnapshot, query: Query, k: number, exclude: Int32Array = NONE, background = false): Promise<TopK> {
    return new Promise((resolve, reject) => {
      const pending: Pending = { query, k, exclude, resolve, reject };
      if (!this.batching) return void this.serve(model, [pending]);
      let queue = this.queues.get(model);
      if (!queue) this.queues.set(model, (queue = { live: [], background: [], main: false, beside: 0, starting: false }));
      (background ? queue.background : queue.live).push(pending);
      if (background && this.backgroundScans > 0) this.startBackground(model, queue);
      else if (!queue.main) void this.drain(model, queue);
    });
  }

  /**
   * The next run's requests: the live ones first, and background ones in the room left, but never fewer
   * than a quarter of the run (one at least, where a run holds two or more) while some wait, so a batch
   * still moves under full live load.
   */
  private take(queue: Queue): Pending[] {
    const reserved = Math.min(queue.background.length, Math.ceil((this.maxBatch - 1) / 4));
    const live = queue.live.splice(0, this.maxBatch - reserved);
    return live.concat(queue.background.splice(0, this.maxBatch - live.length));
  }

  /** What the main loop runs for: live requests, and batch lines too where no background scan takes them. */
  private waiting(queue: Queue): number {
    return queue.live.length + (this.backgroundScans > 0 ? 0 : queue.background.length);
  }

  /**
   * The main scan loop: runs batches for a model until its queue is empty. The next run starts as soon as
   * one ends, before its answers are delivered, so the scan and the writing of responses overlap.
   */
  private async drain(model: ModelSnapshot, queue: Queue): Promise<void> {
    queue.main = true;
    let running: Promise<Finished> | undefined;
    for (;;) {
      if (!running) {
        if (this.waiting(queue) === 0) break;
        await this.gather(model, queue);
        running = this.run(model, this.take(queue));
      }
      const finished = await running;
      running = this.waiting(queue) > 0 ? this.run(model, this.take(queue)) : undefined;
      await deliver(finished);
    }
    queue.main = false;
    this.release(model, queue);
  }

  /**
   * Background scans for the batch lines queued in this turn of the event loop, up to backgroundScans at
   * once, started once they are all queued (a batch queues its lines together) so that they share them.
   */
  private startBackground(model: ModelSnapshot, queue: Queue): void {
    if (queue.starting || queue.beside >= this.backgroundScans) return;
    queue.starting = true;
    queueMicrotask(() => {
      queue.starting = false;
      while (queue.beside < this.backgroundScans && queue.background.length > 0) void this.drainBackground(model, queue);
      this.release(model, queue);
    });
  }

  /**
   * A background scan beside the main loop: runs of batch lines alone, oldest first (a batch's lines are
   * written in order), while they last. A live request never waits for one: the main loop takes it. As in
   * the main loop, the next run starts before a finished one's answers are delivered, so that its thread
   * scans while the event loop writes the lines.
   */
  private async drainBackground(model: ModelSnapshot, queue: Queue): Promise<void> {
    queue.beside++;
    const next = () => (queue.background.length > 0 ? this.run(model, queue.background.splice(0, this.shareOf(queue)), true) : undefined);
    for (let running = next(); running; ) {
      const finished = await running;
      running = next();
      await deliver(finished);
    }
    queue.beside--;
    this.release(model, queue);
  }

  /**
   * A background scan's next run: an even share of the lines left among the background scans, so that the
   * scans of a batch end together, in whole main runs (maxBatch), up to backgroundBatch. Whole runs fill
   * the kernels' passes (a share of 33 was a pass of 32 and a pass of 1, which cost nearly as much).
   */
  private shareOf(queue: Queue): number {
    const runs = Math.ceil(queue.background.length / this.backgroundScans / this.maxBatch);
    return Math.min(this.backgroundBatch, runs * this.maxBatch);
  }

  /** Forgets a model's queue once no scan takes it and nothing waits (a queue holds its snapshot). */
  private release(model: ModelSnapshot, queue: Queue): void {
    if (!queue.main && queue.beside === 0 && !queue.starting && queue.live.length + queue.background.length === 0) this.queues.delete(model);
  }

  /**
   * Before a run starts from idle, waits a few turns of the event loop (at most gatherMs) for as many
   * requests as the model's last run took: clients answered together send their next requests together,
   * and without the wait the first would run alone while the others queue behind it. After a lone run
   * nothing waits.
   */
  private async gather(model: ModelSnapshot, queue: Queue): Promise<void> {
    const want = Math.min(this.maxBatch, this.lastBatch.get(model) ?? 1);
    const until = performance.now() + this.gatherMs;
    while (this.waiting(queue) < want && performance.now() < until) await new Promise((resolve) => setImmediate(resolve));
  }

  private async serve(model: ModelSnapshot, batch: Pending[]): Promise<void> {
    await deliver(await this.run(model, batch));
  }

  /** One run of the kernel chosen for the batch's size; never rejects. */
  private async run(model: ModelSnapshot, batch: Pending[], background = false): Promise<Finished> {
    try {
      const choice = await this.prepare(model);
      const kernel = batch.length >= BATCHED_FROM ? choice.batched : choice.lone;
      const most = Math.max(...batch.map((p) => p.k));
      // A kernel that leaves the exclusions out itself is asked for k (and so keeps a smaller heap); any other for k plus them.
      const excludes = kernel.excludesRows === true && batch.some((p) => p.exclude.length > 0) && batch.every((p) => p.exclude.length <= model.numItems - most);
      const k = excludes ? most : Math.min(model.numItems, Math.max(...batch.map((p) => p.k + p.exclude.length)));
      const users = new Float32Array(batch.length * model.rank);
      batch.forEach((p, i) => users.set(typeof p.query === 'number' ? userVector(model, p.query) : p.query, i * model.rank));
      this.count(kernel.name, batch.length);
      this.lastBatch.set(model, batch.length);
      return { batch, lists: await kernel.topK(model, users, k, excludes ? exclusionsOf(batch) : undefined, background), excluded: excludes };
    } catch (error) {
      return { batch, error };
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

/** `excluded`: the kernel already left out every request's exclusions. */
type Finished = { batch: Pending[]; lists: TopK[]; excluded: boolean } | { batch: Pending[]; error: unknown };

const NONE = new Int32Array(0);

/**
 * A background scan's batch lines, in runs (maxBatch): more users a call share each read of the items and
 * each call's cost (batches of 1,000: 25,951-27,865 users/s with 256 a background scan, against
 * 24,527-25,056 with 32; 100,000 x 64, two background scans).
 */
const BACKGROUND_RUNS = 8;

/** The batch's exclusions in one array, split by offsets. */
function exclusionsOf(batch: readonly Pending[]): Exclusions {
  const offsets = new Int32Array(batch.length + 1);
  batch.forEach((p, i) => (offsets[i + 1] = offsets[i]! + p.exclude.length));
  const rows = new Int32Array(offsets[batch.length]!);
  batch.forEach((p, i) => rows.set(p.exclude, offsets[i]!));
  return { rows, offsets };
}

/** Answers are handed out this many at a time, the event loop turning in between (reading requests, timers). */
const DELIVERY_SLICE = 8;

async function deliver(finished: Finished): Promise<void> {
  const { batch } = finished;
  for (let first = 0; first < batch.length; first += DELIVERY_SLICE) {
    if (first > 0) await new Promise((resolve) => setImmediate(resolve));
    for (let i = first; i < Math.min(batch.length, first + DELIVERY_SLICE); i++) {
      const p = batch[i]!;
      if ('error' in finished) p.reject(finished.error);
      else p.resolve(firstK(finished.excluded ? finished.lists[i]! : withoutRows(finished.lists[i]!, p.exclude), p.k));
    }
  }
}

/** A list without the rows a request excludes (those a kernel was asked for extra rows to cover). */
function withoutRows(list: TopK, exclude: Int32Array): TopK {
  if (exclude.length === 0) return list;
  const keep = Array.from(list.rows, (_, i) => i).filter((i) => findRow(exclude, list.rows[i]!) < 0);
  if (keep.length === list.rows.length) return list;
  return { rows: keep.map((i) => list.rows[i]!), scores: keep.map((i) => list.scores[i]!) };
}

/** A list cut to its first k (kernels answer a batch with the largest k asked). */
function firstK({ rows, scores }: TopK, k: number): TopK {
  if (rows.length <= k) return { rows, scores };
  const head = <T extends ArrayLike<number>>(list: T): ArrayLike<number> => ('subarray' in list ? (list as unknown as Int32Array).subarray(0, k) : Array.prototype.slice.call(list, 0, k));
  return { rows: head(rows), scores: head(scores) };
}
