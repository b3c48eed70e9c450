import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/**
 * A small re-ranking graph for tests: scores = tanh(user · W + b), with W [rank, numItems] and
 * b [numItems] as initializers. Input `user` [1, rank], output `scores` [1, numItems].
 */
export function linearTanhModel(W: Float32Array, b: Float32Array, rank: number, inputName = 'user', outputName = 'scores'): Uint8Array {
  const numItems = b.length;
  const tensor = (name: string, dims: number[], data: Float32Array): onnxProto.onnx.ITensorProto => ({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
  });
  const valueInfo = (name: string, dims: number[]): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'rerank',
      initializer: [tensor('W', [rank, numItems], W), tensor('b', [numItems], b)],
      node: [
        { opType: 'MatMul', input: [inputName, 'W'], output: ['xw'] },
        { opType: 'Add', input: ['xw', 'b'], output: ['z'] },
        { opType: 'Tanh', input: ['z'], output: [outputName] },
      ],
      input: [valueInfo(inputName, [1, rank])],
      output: [valueInfo(outputName, [1, numItems])],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** What linearTanhModel computes, in float64. */
export function linearTanhScores(W: Float32Array, b: Float32Array, user: Float32Array): number[] {
  const numItems = b.length;
  return Array.from({ length: numItems }, (_, j) => {
    let z = b[j]!;
    for (let k = 0; k < user.length; k++) z += user[k]! * W[k * numItems + j]!;
    return Math.tanh(z);
  });
}
