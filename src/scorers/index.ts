import type { NativeAddon } from '../native-addon.js';
import { JsKernel } from './js.js';
import { FLOAT32_KERNELS, KERNEL_NAMES, type KernelName, type ScoringKernel } from './kernel.js';
import { NativeFloat32Kernel } from './native-float32.js';
import { NativeInt8Kernel } from './native-int8.js';
import { OnnxFloat32Kernel } from './onnx-float32.js';
import { OnnxInt8Kernel } from './onnx-int8.js';
import { Scorer } from './scorer.js';

export interface KernelOptions {
  /** Threads per scan. */
  threads: number;
  /** onnx-int8: candidates beyond the k asked for that go to the exact float32 re-score. */
  rescoreCandidates: number;
  /** The native addon; null leaves out the native kernels. */
  native: NativeAddon | null;
}

/** The kernels of the given names that this process can run (native ones need the addon), in that order. */
export function createKernels(names: readonly KernelName[], { threads, rescoreCandidates, native }: KernelOptions): ScoringKernel[] {
  const make: Record<KernelName, () => ScoringKernel | null> = {
    'native-float32': () => native && new NativeFloat32Kernel(native, threads),
    'native-int8': () => native && new NativeInt8Kernel(native, threads),
    'onnx-float32': () => new OnnxFloat32Kernel(threads),
    'onnx-int8': () => new OnnxInt8Kernel(threads, rescoreCandidates),
    js: () => new JsKernel(),
  };
  return names.map((name) => make[name]()).filter((k): k is ScoringKernel => k !== null);
}

export { FLOAT32_KERNELS, KERNEL_NAMES, Scorer, type KernelName, type ScoringKernel };
export type { TopK } from './kernel.js';
export type { KernelChoice } from './choose.js';
export { rankRows, rowsToExclude, topN, type ScoredItem } from './top-n.js';
