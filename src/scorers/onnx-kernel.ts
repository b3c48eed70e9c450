import ort from 'onnxruntime-node';
import type { ModelSnapshot } from '../model-store/snapshot.js';
import { buildTopKGraph } from './onnx-graph.js';
import { userVector, type ScoringKernel, type TopK } from './kernel.js';

/**
 * onnxruntime's Gemm(transB) + TopK over the memory-mapped item matrix, which is passed as an
 * input tensor (no copy). Its TopK breaks exact ties by lower index first, i.e. lower item id.
 */
export class OnnxKernel implements ScoringKernel {
  readonly name = 'onnx';
  private readonly sessions = new Map<number, Promise<ort.InferenceSession>>();
  private readonly itemTensors = new WeakMap<ModelSnapshot, ort.Tensor>();

  constructor(private readonly threads = 1) {}

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

  async topK(model: ModelSnapshot, userRow: number, k: number): Promise<TopK> {
    const session = await this.session(model.rank);
    const out = await session.run({
      users: new ort.Tensor('float32', userVector(model, userRow), [1, model.rank]),
      items: this.items(model),
      k: new ort.Tensor('int64', BigInt64Array.of(BigInt(k)), [1]),
    });
    const indices = out.indices!.data as BigInt64Array;
    const rows = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) rows[i] = Number(indices[i]);
    return { rows, scores: out.values!.data as Float32Array };
  }

  async close(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map(async (s) => (await s).release()));
  }
}
