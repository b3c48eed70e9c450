import { JsKernel } from './js-kernel.js';
import type { ScoringKernel } from './kernel.js';
import { OnnxKernel } from './onnx-kernel.js';

export const KERNEL_NAMES = ['onnx', 'js'] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];

export function createKernel(name: KernelName, threads: number, batching = false): ScoringKernel {
  return name === 'onnx' ? new OnnxKernel(threads, batching) : new JsKernel();
}

export type { ScoringKernel, TopK } from './kernel.js';
export { topN, type ScoredItem } from './top-n.js';
