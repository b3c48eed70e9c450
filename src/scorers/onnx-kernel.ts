import ort from 'onnxruntime-node';
import type { ModelSnapshot } from '../model-store/snapshot.js';
import { quantizeUser } from '../model-store/quantize.js';
import { buildInt8CandidateGraph, buildTopKGraph } from './onnx-graph.js';
import { userVector, type ScoringKernel, type TopK } from './kernel.js';
import { rescore } from './rescore.js';
import type { NativeAddon } from '../native-addon.js';

interface Pending {
  userRow: number;
  k: number;
  resolve: (result: TopK) => void;
  reject: (err: unknown) => void;
}

export interface OnnxKernelOptions {
  /** onnxruntime intra-op threads per run. */
  threads?: number;
  /** Score requests that wait together in one run. */
  batching?: boolean;
  /** int8 bundles: candidates beyond the k asked for that the int8 pass hands to the exact float32 re-score. */
  rescoreCandidates?: number;
  /**
   * Without the native scans, int8 bundles whose float32 item matrix is smaller than this are scanned in
   * float32 instead: onnxruntime's int8 pass adds more fixed costs than a matrix in cache takes to scan
   * (measured at 43,331 x 15).
   */
  int8MinMatrixBytes?: number;
  /**
   * The native scans: float32 for lone requests on bundles of rank >= NATIVE_MIN_RANK, and the int8
   * candidate pass for every request on int8 bundles; null: onnxruntime only.
   */
  native?: NativeAddon | null;
  /** Float32 bundles of at least this rank go to the native scan (NATIVE_MIN_RANK: measured break-even). */
  nativeMinRank?: number;
}

type Encoding = ModelSnapshot['itemEncoding'];

/** The batch's user vectors, row-major; a lone user's is its view of the mapped factors. */
function stackUsers(model: ModelSnapshot, batch: Pending[]): Float32Array {
  if (batch.length === 1) return userVector(model, batch[0]!.userRow);
  const users = new Float32Array(batch.length * model.rank);
  batch.forEach((p, i) => users.set(userVector(model, p.userRow), i * model.rank));
  return users;
}

export const INT8_MIN_MATRIX_BYTES = 4 * 2 ** 20;

/**
 * Below this rank the native float32 scan's per-row horizontal sums cost more than onnxruntime's GEMV
 * (measured: rank 15 slower, rank 64 about 1.9x faster), so lone requests go native from here up.
 */
export const NATIVE_MIN_RANK = 32;

/** int8 runs of one user take MatMulInteger's single-row fast path; from this many users one shared run is cheaper. */
const INT8_SHARED_RUN_MIN = 4;

/**
 * onnxruntime over the memory-mapped item matrix, passed as an input tensor (no copy).
 *
 * float32 bundles: Gemm(transB) + TopK, exact; TopK breaks exact ties by lower index, i.e. lower item id.
 * A lone request on a bundle of rank >= 32 goes to the native scan instead when it is built (it streams
 * the matrix faster than onnxruntime's single-row Gemm); batches stay on the GEMM, which shares one pass.
 * int8 bundles: an int8 pass over a quarter of the bytes picks candidates, which are re-scored exactly
 * in float32, so returned scores are the model's own and only the choice of candidates is approximate.
 * The native int8 scan runs it when built (whole batches, up to 4 users per pass over the codes);
 * onnxruntime's MatMulInteger graph otherwise, with the same integers and so the same answers.
 *
 * With batching, requests for the same model that arrive while a run is busy are scored together in
 * the next run: one GEMM of B users over the item matrix reads the matrix once instead of B times.
 */
export class OnnxKernel implements ScoringKernel {
  readonly name = 'onnx';
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private readonly itemInputs = new WeakMap<ModelSnapshot, Record<string, ort.Tensor>>();
  private readonly queues = new Map<ModelSnapshot, Pending[]>();
  private readonly threads: number;
  private readonly batching: boolean;
  private readonly rescoreCandidates: number;
  private readonly native: NativeAddon | null;
  private readonly int8MinMatrixBytes: number;
  private readonly nativeMinRank: number;
  /** Scoring runs and the requests they answered (requests / runs is the mean batch size), and runs by path. */
  readonly stats = { runs: 0, requests: 0, paths: { float32: 0, int8: 0, native: 0, nativeInt8: 0 } };

  constructor({
    threads = 1,
    batching = false,
    rescoreCandidates = 100,
    native = null,
    int8MinMatrixBytes = INT8_MIN_MATRIX_BYTES,
    nativeMinRank = NATIVE_MIN_RANK,
  }: OnnxKernelOptions = {}) {
    this.native = native;
    this.nativeMinRank = nativeMinRank;
    this.int8MinMatrixBytes = int8MinMatrixBytes;
    this.threads = threads;
    this.batching = batching;
    this.rescoreCandidates = rescoreCandidates;
  }

  /** How this kernel scans a model: its int8 codes when it has them and they pay off. */
  private encodingFor(model: ModelSnapshot): Encoding {
    if (!model.itemCodes) return 'float32';
    return this.native || model.numItems * model.rank * 4 >= this.int8MinMatrixBytes ? 'int8' : 'float32';
  }

  private session(encoding: Encoding, rank: number): Promise<ort.InferenceSession> {
    const key = `${encoding}:${rank}`;
    let session = this.sessions.get(key);
    if (!session) {
      const graph = encoding === 'int8' ? buildInt8CandidateGraph(rank) : buildTopKGraph(rank);
      session = ort.InferenceSession.create(graph, {
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      this.sessions.set(key, session);
    }
    return session;
  }

  /** The model's item tensors, views of its mapped files, made once per snapshot. */
  private items(model: ModelSnapshot): Record<string, ort.Tensor> {
    let inputs = this.itemInputs.get(model);
    if (!inputs) {
      const { numItems, rank, itemCodes } = model;
      const useCodes = itemCodes && this.encodingFor(model) === 'int8';
      inputs = useCodes
        ? {
            codes: new ort.Tensor('int8', itemCodes.codes, [rank, numItems]),
            offsets: new ort.Tensor('int32', itemCodes.offsets, [numItems]),
            scales: new ort.Tensor('float32', itemCodes.scales, [numItems]),
          }
        : { items: new ort.Tensor('float32', model.itemFactors, [numItems, rank]) };
      this.itemInputs.set(model, inputs);
    }
    return inputs;
  }

  /** Creates the session for a model's encoding and rank ahead of its first request. */
  async prepare(model: ModelSnapshot): Promise<void> {
    const encoding = this.encodingFor(model);
    // The native scan serves every int8 request: no onnxruntime session to build for them.
    if (encoding === 'int8' && this.native) return;
    await this.session(encoding, model.rank);
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
    try {
      const float32 = this.encodingFor(model) === 'float32';
      if (float32 && batch.length === 1 && this.native && model.rank >= this.nativeMinRank) return this.runNative(model, batch[0]!, this.native);
      if (float32) return await this.runFloat32(model, batch);
      if (this.native) return this.runNativeInt8(model, batch, this.native);
      if (batch.length >= INT8_SHARED_RUN_MIN) return await this.runInt8(model, batch);
      for (const pending of batch) await this.runInt8(model, [pending]);
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  private async runSession(model: ModelSnapshot, users: ort.Tensor, batchSize: number, k: number) {
    const encoding = this.encodingFor(model);
    this.count(encoding, batchSize);
    const session = await this.session(encoding, model.rank);
    const out = await session.run({ users, ...this.items(model), k: new ort.Tensor('int64', BigInt64Array.of(BigInt(k)), [1]) });
    return { indices: out.indices!.data as BigInt64Array, values: out.values!.data as Float32Array };
  }

  private async runFloat32(model: ModelSnapshot, batch: Pending[]): Promise<void> {
    const k = Math.max(...batch.map((p) => p.k));
    const users = stackUsers(model, batch);
    const { indices, values } = await this.runSession(model, new ort.Tensor('float32', users, [batch.length, model.rank]), batch.length, k);
    batch.forEach((p, i) => {
      const rows = new Int32Array(p.k);
      for (let j = 0; j < p.k; j++) rows[j] = Number(indices[i * k + j]);
      p.resolve({ rows, scores: values.subarray(i * k, i * k + p.k) });
    });
  }

  private runNative(model: ModelSnapshot, pending: Pending, native: NativeAddon): void {
    this.count('native');
    pending.resolve(native.topK(model.itemFactors, model.rank, userVector(model, pending.userRow), pending.k, this.threads));
  }

  /** The whole batch in one call: up to 4 users share each pass over the codes. */
  private runNativeInt8(model: ModelSnapshot, batch: Pending[], native: NativeAddon): void {
    this.count('nativeInt8', batch.length);
    const { rank } = model;
    const { codes, offsets, scales } = model.itemCodes!;
    const k = Math.max(...batch.map((p) => p.k));
    const users = stackUsers(model, batch);
    const userCodes = new Uint8Array(users.length);
    batch.forEach((_, i) => quantizeUser(users.subarray(i * rank, (i + 1) * rank), userCodes.subarray(i * rank, (i + 1) * rank)));
    const { rows, scores } = native.topKInt8(codes, offsets, scales, model.itemFactors, rank, userCodes, users, k, k + this.rescoreCandidates, this.threads);
    batch.forEach((p, i) => p.resolve({ rows: rows.subarray(i * k, i * k + p.k), scores: scores.subarray(i * k, i * k + p.k) }));
  }

  private count(path: keyof typeof this.stats.paths, requests = 1): void {
    this.stats.runs++;
    this.stats.requests += requests;
    this.stats.paths[path]++;
  }

  private async runInt8(model: ModelSnapshot, batch: Pending[]): Promise<void> {
    const { rank, numItems } = model;
    const candidates = Math.min(numItems, Math.max(...batch.map((p) => p.k)) + this.rescoreCandidates);
    const users = new Uint8Array(batch.length * rank);
    batch.forEach((p, i) => quantizeUser(userVector(model, p.userRow), users.subarray(i * rank, (i + 1) * rank)));
    const { indices } = await this.runSession(model, new ort.Tensor('uint8', users, [batch.length, rank]), batch.length, candidates);
    batch.forEach((p, i) => {
      const rows = Array.from(indices.subarray(i * candidates, (i + 1) * candidates), Number);
      p.resolve(rescore(model.itemFactors, rank, userVector(model, p.userRow), rows, p.k));
    });
  }

  async close(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map(async (s) => (await s).release()));
  }
}
