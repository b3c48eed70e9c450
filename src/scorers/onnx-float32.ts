import ort from 'onnxruntime-node';
import type { ModelSnapshot } from '../model-store/snapshot.js';
import type { ScoringKernel, TopK } from './kernel.js';
import { buildTopKGraph } from './onnx-graph.js';
import { GraphSessions } from './onnx-sessions.js';

/**
 * onnxruntime Gemm(transB) + TopK over the memory-mapped item matrix, passed as an input tensor (no copy);
 * a batch is one GEMM. TopK breaks exact ties by lower index, i.e. lower item id.
 */
export class OnnxFloat32Kernel implements ScoringKernel {
  readonly name = 'onnx-float32';
  readonly offEventLoop = false;
  private readonly sessions: GraphSessions;
  private readonly itemTensors = new WeakMap<ModelSnapshot, ort.Tensor>();

  constructor(threads: number) {
    this.sessions = new GraphSessions(threads, buildTopKGraph);
  }

  accepts(): boolean {
    return true;
  }

  async prepare(model: ModelSnapshot): Promise<void> {
    await this.sessions.get(model.rank);
    this.items(model);
  }

  private items(model: ModelSnapshot): ort.Tensor {
    let tensor = this.itemTensors.get(model);
    if (!tensor) this.itemTensors.set(model, (tensor = new ort.Tensor('float32', model.itemFactors, [model.numItems, model.rank])));
    return tensor;
  }

  topK(model: ModelSnapshot, users: Float32Array, k: number): Promise<TopK[]> {
    const batch = users.length / model.rank;
    return this.sessions.topK(model.rank, { users: new ort.Tensor('float32', users, [batch, model.rank]), items: this.items(model) }, batch, Math.min(k, model.numItems));
  }

  close(): Promise<void> {
    return this.sessions.close();
  }
}
