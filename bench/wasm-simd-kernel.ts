import wabtInit from 'wabt';
import type { ModelSnapshot } from '../src/model-store/snapshot.js';
import { userVector, type ScoringKernel, type TopK } from '../src/scorers/kernel.js';
import { selectTopK } from '../src/scorers/select-top-k.js';

// scores[i] = dot(user, items[i]) with f32x4 lanes; rank must be a multiple of 4.
const WAT = `(module
  (memory (export "memory") 1 65536)
  (func (export "score") (param $items i32) (param $user i32) (param $scores i32) (param $n i32) (param $rank i32)
    (local $i i32) (local $k i32) (local $row i32) (local $rowBytes i32) (local $acc v128)
    (local.set $rowBytes (i32.shl (local.get $rank) (i32.const 2)))
    (local.set $row (local.get $items))
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $acc (v128.const f32x4 0 0 0 0))
      (local.set $k (i32.const 0))
      (block $kdone (loop $lanes
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $rowBytes)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul
          (v128.load (i32.add (local.get $row) (local.get $k)))
          (v128.load (i32.add (local.get $user) (local.get $k))))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $lanes)))
      (f32.store (i32.add (local.get $scores) (i32.shl (local.get $i) (i32.const 2)))
        (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
                 (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
      (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rows))))
)`;

interface Exports {
  memory: WebAssembly.Memory;
  score(items: number, user: number, scores: number, n: number, rank: number): void;
}

/**
 * A WebAssembly SIMD candidate. Wasm can only read its own linear memory, so the item matrix
 * is copied in once per model: the copy is why it is a benchmark candidate, not a shipped kernel.
 */
export class WasmSimdKernel implements ScoringKernel {
  readonly name = 'wasm-simd';
  private constructor(private readonly exports: Exports) {}
  private loaded: ModelSnapshot | undefined;

  static async create(): Promise<WasmSimdKernel> {
    const wabt = await wabtInit();
    const module = wabt.parseWat('score.wat', WAT, { simd: true });
    const { buffer } = module.toBinary({});
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(buffer as Uint8Array<ArrayBuffer>));
    return new WasmSimdKernel(instance.exports as unknown as Exports);
  }

  private layout(model: ModelSnapshot) {
    const items = 0;
    const user = model.itemFactors.byteLength;
    const scores = user + model.rank * 4;
    return { items, user, scores, end: scores + model.numItems * 4 };
  }

  private load(model: ModelSnapshot): void {
    if (model.rank % 4 !== 0) throw new Error('wasm-simd kernel needs a rank that is a multiple of 4');
    const { end } = this.layout(model);
    const memory = this.exports.memory;
    if (memory.buffer.byteLength < end) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
    new Float32Array(memory.buffer, 0, model.itemFactors.length).set(model.itemFactors);
    this.loaded = model;
  }

  async topK(model: ModelSnapshot, userRow: number, k: number): Promise<TopK> {
    if (this.loaded !== model) this.load(model);
    const { items, user, scores } = this.layout(model);
    const buffer = this.exports.memory.buffer;
    new Float32Array(buffer, user, model.rank).set(userVector(model, userRow));
    this.exports.score(items, user, scores, model.numItems, model.rank);
    return selectTopK(new Float32Array(buffer, scores, model.numItems), k);
  }

  async close(): Promise<void> {}
}
