import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/schema.js';
import type { LoadedModel } from '../model-store/snapshot.js';
import type { ScoringStatus } from '../model-store/status.js';
import { loadNative, type NativeAddon } from '../native-addon.js';
import { createKernels, Scorer, type KernelChoice } from '../scorers/index.js';

function scoringStatus(choice: KernelChoice, native: NativeAddon | null): ScoringStatus {
  const { name } = choice.lone;
  const isa = native && name.startsWith('native-') ? native.isa()[name === 'native-int8' ? 'int8' : 'float32'] : null;
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  return {
    lone: name,
    batched: choice.batched.name,
    isa,
    timings: choice.timings.map((t) => ({ kernel: t.kernel, loneMs: round(t.loneMs), batchMs: round(t.batchMs) })),
  };
}

export interface Scoring {
  scorer: Scorer;
  /** Scoring threads of this process: cluster workers share the cores. */
  threads: number;
  /** Chooses and warms the kernels for a snapshot before it is swapped in, not on its first request. */
  prepare(snapshot: LoadedModel): Promise<ScoringStatus | null>;
}

/** The configured kernels (the native scans if built) behind one scorer. */
export function buildScoring(config: Readonly<ResolvedConfig>, logger: Logger): Scoring {
  const threads = config.scoring.threads ?? Math.max(1, Math.floor(availableParallelism() / config.workers));
  const { kernels: names, batching, maxBatch, gatherMs, backgroundScans, rescoreCandidates } = config.scoring;
  const wantsNative = names.some((n) => n.startsWith('native-'));
  const native = wantsNative ? loadNative() : null;
  if (wantsNative && !native) logger.warn('the native scans (build/Release/recserve_kernel.node) are not built: onnxruntime scores every request');
  const scorer = new Scorer({ kernels: createKernels(names, { threads, rescoreCandidates, native }), batching, maxBatch, gatherMs, backgroundScans });
  return {
    scorer,
    threads,
    prepare: async (snapshot) => (snapshot.kind === 'als' ? scoringStatus(await scorer.prepare(snapshot), native) : null),
  };
}
