import { JsKernel } from './js-kernel.js';
import type { ScoringKernel } from './kernel.js';
import { OnnxKernel, type OnnxKernelOptions } from './onnx-kernel.js';

export const KERNEL_NAMES = ['onnx', 'js'] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];

export function createKernel(name: KernelName, options: OnnxKernelOptions = {}): ScoringKernel {
  return name === 'onnx' ? new OnnxKernel(options) : new JsKernel();
}

export type { ScoringKernel, TopK } from './kernel.js';
export { topN, type ScoredItem } from './top-n.js';
