import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

type Dim = number | string;

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

/**
 * The top-N graph: scores = users · itemsᵀ (Gemm, transB=1), then TopK over each row.
 * The item matrix is an input rather than an initializer so that the memory-mapped
 * factors are handed to the runtime without a copy.
 */
export function buildTopKGraph(rank: number): Uint8Array {
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'recserve',
    graph: {
      name: 'als_topk',
      node: [
        {
          opType: 'Gemm',
          input: ['users', 'items'],
          output: ['scores'],
          attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
        },
        {
          opType: 'TopK',
          input: ['scores', 'k'],
          output: ['values', 'indices'],
          attribute: [
            { name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 },
            { name: 'largest', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
            { name: 'sorted', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
          ],
        },
      ],
      input: [
        tensorInput('users', FLOAT, ['batch', rank]),
        tensorInput('items', FLOAT, ['numItems', rank]),
        tensorInput('k', INT64, [1]),
      ],
      output: [
        tensorInput('values', FLOAT, ['batch', 'k']),
        tensorInput('indices', INT64, ['batch', 'k']),
      ],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
