import type { ModelSnapshot } from '../model-store/snapshot.js';
import type { NativeAddon } from '../native-addon.js';
import type { Exclusions, KernelName, ScoringKernel, TopK } from './kernel.js';

/** What the two native kernels share: the addon, threads per scan, nothing to release, scans off the event loop. */
export abstract class NativeKernel implements ScoringKernel {
  abstract readonly name: KernelName;
  readonly offEventLoop = true;

  constructor(
    protected readonly native: NativeAddon,
    protected readonly threads: number,
  ) {}

  abstract accepts(model: ModelSnapshot): boolean;
  abstract topK(model: ModelSnapshot, users: Float32Array, k: number, exclusions?: Exclusions, background?: boolean): Promise<TopK[]>;

  /**
   * Threads for a scan: a background one takes one, a thread of its own in the idle scheduling class
   * (native/pool.c), so it uses what the event loop and the live scans leave (and two scans on one thread each did 1.4 times the
   * work of one on two).
   */
  protected threadsFor(background: boolean): number {
    return background ? 1 : this.threads;
  }

  async prepare(_model: ModelSnapshot): Promise<void> {}

  async close(): Promise<void> {}
}
