import ort from 'onnxruntime-node';
import type { ModelSnapshot } from '../model-store/snapshot.js';
import { buildTopKGraph } from './onnx-graph.js';
import { userVector, type ScoringKernel, type TopK } from './kernel.js';

interface Pending {
  userRow: number;
  k: number;
  resolve: (result: TopK) => void;
  reject: (err: unknown) => void;
}

/**
 * onnxruntime's Gemm(transB) + TopK over the memory-mapped item matrix, which is passed as an
 * input tensor (no copy). Its TopK breaks exact ties by lower index first, i.e. lower item id.
 *
 * With batching, requests for the same model that arrive while a run is busy are scored together in
 * the next run: one GEMM of B users over the item matrix reads the matrix once instead of B times.
 */
export class OnnxKernel implements ScoringKernel {
  readonly name = 'onnx';
  private readonly sessions = new Map<number, Promise<ort.InferenceSession>>();
  private readonly itemTensors = new WeakMap<ModelSnapshot, ort.Tensor>();
  private readonly queues = new Map<ModelSnapshot, Pending[]>();
  /** Scoring runs and the requests they answered: requests / runs is the mean batch size. */
  readonly stats = { runs: 0, requests: 0 };

  constructor(
    private readonly threads = 1,
    private readonly batching = false,
  ) {}

  private session(rank: number): Promise<ort.InferenceSession> {
    let session = this.sessions.get(rank);
    if (!session) {
      session = ort.InferenceSession.create(buildTopKGraph(rank), {
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      this.sessions.set(rank, session);
    }
    return session;
  }

  private items(model: ModelSnapshot): ort.Tensor {
    let tensor = this.itemTensors.get(model);
    if (!tensor) {
      tensor = new ort.Tensor('float32', model.itemFactors, [model.numItems, model.rank]);
      this.itemTensors.set(model, tensor);
    }
    return tensor;
  }

  /** Creates the session for a model's rank ahead of its first request. */
  async prepare(model: ModelSnapshot): Promise<void> {
    await this.session(model.rank);
    this.items(model);
  }

  topK(model: ModelSnapshot, userRow: number, k: number): Promise<TopK> {
    return new Promise((resolve, reject) => {
      const pending: Pending = { userRow, k, resolve, reject };
      if (!this.batching) return void this.run(model, [pending]);
      const queue = this.queues.get(model);
      if (queue) return void queue.push(pending);
      this.queues.set(model, [pending]);
      // Requests whose handlers run in this turn of the event loop join the batch.
      setImmediate(() => {
        const batch = this.queues.get(model)!;
        this.queues.delete(model);
        void this.run(model, batch);
      });
    });
  }

  private async run(model: ModelSnapshot, batch: Pending[]): Promise<void> {
    this.stats.runs++;
    this.stats.requests += batch.length;
    try {
      const { rank } = model;
      const k = Math.max(...batch.map((p) => p.k));
      const users = batch.length === 1 ? userVector(model, batch[0]!.userRow) : new Float32Array(batch.length * rank);
      if (batch.length > 1) batch.forEach((p, i) => users.set(userVector(model, p.userRow), i * rank));
      const session = await this.session(rank);
      const out = await session.run({
        users: new ort.Tensor('float32', users, [batch.length, rank]),
        items: this.items(model),
        k: new ort.Tensor('int64', BigInt64Array.of(BigInt(k)), [1]),
      });
      const indices = out.indices!.data as BigInt64Array;
      const values = out.values!.data as Float32Array;
      batch.forEach((p, i) => {
        const rows = new Int32Array(p.k);
        for (let j = 0; j < p.k; j++) rows[j] = Number(indices[i * k + j]);
        p.resolve({ rows, scores: values.subarray(i * k, i * k + p.k) });
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  async close(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map(async (s) => (await s).release()));
  }
}
