import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const { FLOAT, INT8, INT32, INT64, UINT8 } = onnx.TensorProto.DataType;
const INT = onnx.AttributeProto.AttributeType.INT;

type Dim = number | string;
type Node = onnxProto.onnx.INodeProto;

function tensorInput(name: string, elemType: number, dims: Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** TopK over the last axis, best first; onnxruntime breaks exact ties by lower index. */
const topK = (scores: string): Node => ({
  opType: 'TopK',
  input: [scores, 'k'],
  output: ['values', 'indices'],
  attribute: [
    { name: 'axis', type: INT, i: -1 },
    { name: 'largest', type: INT, i: 1 },
    { name: 'sorted', type: INT, i: 1 },
  ],
});

function encodeGraph(name: string, node: Node[], input: onnxProto.onnx.IValueInfoProto[]): Uint8Array {
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'recserve',
    graph: {
      name,
      node,
      input: [...input, tensorInput('k', INT64, [1])],
      output: [tensorInput('values', FLOAT, ['batch', 'k']), tensorInput('indices', INT64, ['batch', 'k'])],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/**
 * The exact float32 top-N graph: scores = users · itemsᵀ (Gemm, transB=1), then TopK over each row.
 * The item matrix is an input rather than an initializer so that the memory-mapped
 * factors are handed to the runtime without a copy.
 */
export function buildTopKGraph(rank: number): Uint8Array {
  return encodeGraph(
    'als_topk',
    [{ opType: 'Gemm', input: ['users', 'items'], output: ['scores'], attribute: [{ name: 'transB', type: INT, i: 1 }] }, topK('scores')],
    [tensorInput('users', FLOAT, ['batch', rank]), tensorInput('items', FLOAT, ['numItems', rank])],
  );
}

/**
 * The int8 candidate graph over quantised item codes (see model-store/quantize.ts):
 * scores = (MatMulInteger(users u8, codes [rank, numItems] i8) − offsets) · scales, then TopK.
 * Without a zero-point input MatMulInteger takes its fast path, so the offset is subtracted here.
 */
export function buildInt8CandidateGraph(rank: number): Uint8Array {
  return encodeGraph(
    'als_int8_candidates',
    [
      { opType: 'MatMulInteger', input: ['users', 'codes'], output: ['raw'] },
      { opType: 'Sub', input: ['raw', 'offsets'], output: ['dots'] },
      { opType: 'Cast', input: ['dots'], output: ['dotsFloat'], attribute: [{ name: 'to', type: INT, i: FLOAT }] },
      { opType: 'Mul', input: ['dotsFloat', 'scales'], output: ['scores'] },
      topK('scores'),
    ],
    [
      tensorInput('users', UINT8, ['batch', rank]),
      tensorInput('codes', INT8, [rank, 'numItems']),
      tensorInput('offsets', INT32, ['numItems']),
      tensorInput('scales', FLOAT, ['numItems']),
    ],
  );
}
