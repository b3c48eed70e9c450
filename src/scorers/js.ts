import type { ModelSnapshot } from '../model-store/snapshot.js';
import { eachUser, type ScoringKernel, type TopK } from './kernel.js';
import { selectTopK } from './select-top-k.js';

/** Plain TypeScript: one dot product per item, then a heap selection. The baseline the benchmark compares against. */
export class JsKernel implements ScoringKernel {
  readonly name = 'js';
  readonly offEventLoop = false;
  private scratch = new Float32Array(0);

  accepts(): boolean {
    return true;
  }

  async prepare(): Promise<void> {}

  async topK(model: ModelSnapshot, users: Float32Array, k: number): Promise<TopK[]> {
    return eachUser(users, model.rank).map((user) => this.one(model, user, k));
  }

  private one({ rank, numItems, itemFactors }: ModelSnapshot, user: Float32Array, k: number): TopK {
    if (this.scratch.length < numItems) this.scratch = new Float32Array(numItems);
    const scores = this.scratch.subarray(0, numItems);
    for (let i = 0, offset = 0; i < numItems; i++, offset += rank) {
      let sum = 0;
      for (let r = 0; r < rank; r++) sum += user[r]! * itemFactors[offset + r]!;
      scores[i] = sum;
    }
    return selectTopK(scores, k);
  }

  async close(): Promise<void> {}
}
