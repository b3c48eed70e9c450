import ort from 'onnxruntime-node';
import { onnxSessionOptions } from '../model-store/onnx-bundle.js';
import type { TopK } from './kernel.js';

/** onnxruntime sessions of one graph, built once per rank and shared by every model of that rank. */
export class GraphSessions {
  private readonly sessions = new Map<number, Promise<ort.InferenceSession>>();

  constructor(
    private readonly threads: number,
    private readonly build: (rank: number) => Uint8Array,
  ) {}

  get(rank: number): Promise<ort.InferenceSession> {
    let session = this.sessions.get(rank);
    if (!session) {
      session = ort.InferenceSession.create(this.build(rank), onnxSessionOptions(this.threads));
      this.sessions.set(rank, session);
    }
    return session;
  }

  /** Runs a top-k graph (outputs `values`, `indices`: [batch, k]) and splits its answer per user. */
  async topK(rank: number, inputs: Record<string, ort.Tensor>, batch: number, k: number): Promise<TopK[]> {
    const session = await this.get(rank);
    const out = await session.run({ ...inputs, k: new ort.Tensor('int64', BigInt64Array.of(BigInt(k)), [1]) });
    const indices = out.indices!.data as BigInt64Array;
    const values = out.values!.data as Float32Array;
    return Array.from({ length: batch }, (_, i) => ({
      rows: Int32Array.from(indices.subarray(i * k, (i + 1) * k), Number),
      scores: values.subarray(i * k, (i + 1) * k),
    }));
  }

  async close(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map(async (s) => (await s).release()));
  }
}
