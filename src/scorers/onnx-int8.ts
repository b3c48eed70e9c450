import ort from 'onnxruntime-node';
import { quantizeUser } from '../model-store/quantize.js';
import type { ModelSnapshot } from '../model-store/snapshot.js';
import { eachUser, type ScoringKernel, type TopK } from './kernel.js';
import { buildInt8CandidateGraph } from './onnx-graph.js';
import { GraphSessions } from './onnx-sessions.js';
import { rescore } from './rescore.js';

/**
 * onnxruntime's MatMulInteger over the int8 item codes picks `k + rescoreCandidates` candidates per user,
 * re-scored exactly in float32. User codes have 7 bits, so its u8 x s8 kernels cannot saturate on any CPU
 * (they sum pairs of products in int16 without VNNI): the same integers, so the same candidates, as the
 * native int8 scan.
 */
export class OnnxInt8Kernel implements ScoringKernel {
  readonly name = 'onnx-int8';
  readonly offEventLoop = false;
  private readonly sessions: GraphSessions;
  private readonly codeTensors = new WeakMap<ModelSnapshot, Record<string, ort.Tensor>>();

  constructor(
    threads: number,
    private readonly rescoreCandidates: number,
  ) {
    this.sessions = new GraphSessions(threads, buildInt8CandidateGraph);
  }

  accepts(model: ModelSnapshot): boolean {
    return model.itemCodes !== null;
  }

  async prepare(model: ModelSnapshot): Promise<void> {
    await this.sessions.get(model.rank);
    this.codes(model);
  }

  private codes(model: ModelSnapshot): Record<string, ort.Tensor> {
    let tensors = this.codeTensors.get(model);
    if (!tensors) {
      const { numItems, rank, itemCodes } = model;
      tensors = {
        codes: new ort.Tensor('int8', itemCodes!.codes, [rank, numItems]),
        offsets: new ort.Tensor('int32', itemCodes!.offsets, [numItems]),
        scales: new ort.Tensor('float32', itemCodes!.scales, [numItems]),
      };
      this.codeTensors.set(model, tensors);
    }
    return tensors;
  }

  async topK(model: ModelSnapshot, users: Float32Array, k: number): Promise<TopK[]> {
    const { rank, numItems } = model;
    const batch = users.length / rank;
    const candidates = Math.min(numItems, k + this.rescoreCandidates);
    const userCodes = new ort.Tensor('uint8', quantizeUsers(users, rank), [batch, rank]);
    const lists = await this.sessions.topK(rank, { users: userCodes, ...this.codes(model) }, batch, candidates);
    return eachUser(users, rank).map((user, i) => rescore(model.itemFactors, rank, user, lists[i]!.rows, Math.min(k, numItems)));
  }

  close(): Promise<void> {
    return this.sessions.close();
  }
}

/** A batch of user vectors (row-major) as 7-bit codes, each user quantised on its own scale. */
function quantizeUsers(users: Float32Array, rank: number): Uint8Array {
  const codes = new Uint8Array(users.length);
  for (let at = 0; at < users.length; at += rank) quantizeUser(users.subarray(at, at + rank), codes.subarray(at, at + rank));
  return codes;
}
