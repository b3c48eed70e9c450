import ort from 'onnxruntime-node';
import { RecserveError } from '../errors.js';
import { ONNX_INPUT, ONNX_OUTPUT } from '../model-store/onnx-bundle.js';
import type { ModelSnapshot, OnnxSnapshot } from '../model-store/snapshot.js';
import { userVector, type TopK } from './kernel.js';
import { selectTopK } from './select-top-k.js';

/**
 * The best `n` items by an ONNX graph that takes a user's ALS factor vector (`user` [1, rank]) and scores
 * every item of that ALS model (`scores` [1, numItems], in the model's item order). onnxruntime runs the
 * graph off the JavaScript thread.
 */
export async function topNByGraph(graph: OnnxSnapshot, factors: ModelSnapshot, userRow: number, n: number, excludeRows: ReadonlySet<number>): Promise<TopK> {
  const out = await graph.session.run({ [ONNX_INPUT]: new ort.Tensor('float32', userVector(factors, userRow), [1, factors.rank]) });
  const scores = out[ONNX_OUTPUT]?.data;
  if (!(scores instanceof Float32Array) || scores.length !== factors.numItems) {
    throw new RecserveError('scoring_failed', `model ${graph.name} gave ${scores?.length ?? 'no'} scores; ${factors.name} has ${factors.numItems} items`);
  }
  // The output tensor is this request's own: excluded items can be pushed out in place.
  for (const row of excludeRows) scores[row] = Number.NEGATIVE_INFINITY;
  return selectTopK(scores, Math.min(n, factors.numItems - excludeRows.size));
}
