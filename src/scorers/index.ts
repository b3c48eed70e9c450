import { JsKernel } from './js-kernel.js';
import type { KernelName, ScoringKernel } from './kernel.js';
import { OnnxKernel, type OnnxKernelOptions } from './onnx-kernel.js';


export function createKernel(name: KernelName, options: OnnxKernelOptions = {}): ScoringKernel {
  return name === 'onnx' ? new OnnxKernel(options) : new JsKernel();
}

export { KERNEL_NAMES, type KernelName, type ScoringKernel, type TopK } from './kernel.js';
export { topN, type ScoredItem } from './top-n.js';
