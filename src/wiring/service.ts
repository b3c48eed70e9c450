import type { Logger } from 'pino';
import type { RecommenderConfig, ResolvedConfig } from '../config/schema.js';
import type { WritableSource } from '../fallback/source.js';
import { loadStaticList } from '../fallback/static-list.js';
import type { ModelStore } from '../model-store/store.js';
import { exposureFileSink, openExposureLog, type ExposureLog } from '../recommender/exposure-log.js';
import { AlsRecommender } from '../recommender/kinds/als.js';
import { OnnxRecommender } from '../recommender/kinds/onnx.js';
import { StaticRecommender } from '../recommender/kinds/static.js';
import type { ItemRecommender } from '../recommender/kinds/types.js';
import { RecommendationService, type ServiceOptions, type VariantPlan } from '../recommender/service.js';
import type { Scorer } from '../scorers/index.js';
import { compileExperiment } from '../variants/experiments.js';
import { primaryExposureSink, WorkerLink } from '../cluster.js';
import type { Fallbacks } from './fallbacks.js';

function buildRecommender(config: RecommenderConfig, store: ModelStore, scorer: Scorer): ItemRecommender {
  switch (config.kind) {
    case 'als':
      return new AlsRecommender(store, scorer, config.model!);
    case 'onnx':
      return new OnnxRecommender(store, config.model!, config.factors!);
    case 'static':
      return new StaticRecommender(loadStaticList(config.file!));
  }
}

/** Per experiment, per variant: its recommender, the stores to fall back to in order, and where to write behind. */
function buildPlans(config: Readonly<ResolvedConfig>, { sources, guarded }: Fallbacks): Map<string, Map<string, VariantPlan>> {
  const plan = (v: ResolvedConfig['experiments'][number]['variants'][number]): VariantPlan => ({
    recommender: v.recommender,
    foldIn: v.foldIn,
    fallback: v.fallback.map((f) => guarded.get(f)!),
    writeBehind: v.writeBehind && { to: sources.get(v.writeBehind.to) as WritableSource, ttlSeconds: v.writeBehind.ttlSeconds },
  });
  return new Map(config.experiments.map((e) => [e.name, new Map(e.variants.map((v) => [v.name, plan(v)]))]));
}

function buildExposureLog(config: Readonly<ResolvedConfig>, logger: Logger): ExposureLog | undefined {
  if (!config.exposureLog) return undefined;
  // In a cluster, the primary writes every worker's lines to the one file.
  const sink = WorkerLink.active ? primaryExposureSink() : exposureFileSink(config.exposureLog.destination, config.exposureLog.rotate);
  return openExposureLog(sink, { ...config.exposureLog, onError: (err) => logger.error({ err: err.message }, 'exposure lines could not be written') });
}

export interface ServiceDeps {
  store: ModelStore;
  scorer: Scorer;
  fallbacks: Fallbacks;
  logger: Logger;
  hooks: Pick<ServiceOptions, 'onFallback' | 'onServed'>;
}

/** Recommenders, experiments and their fallback plans behind one service; the exposure log it writes to. */
export function buildService(config: Readonly<ResolvedConfig>, { store, scorer, fallbacks, logger, hooks }: ServiceDeps): { service: RecommendationService; exposureLog?: ExposureLog } {
  const exposureLog = buildExposureLog(config, logger);
  const service = new RecommendationService({
    experiments: new Map(config.experiments.map((e) => [e.name, compileExperiment(e)])),
    defaultExperiment: config.defaultExperiment,
    recommenders: new Map(Object.entries(config.recommenders).map(([name, r]) => [name, buildRecommender(r, store, scorer)])),
    plans: buildPlans(config, fallbacks),
    allowForcedVariant: config.allowForcedVariant,
    deadlineMs: config.deadlineMs,
    logger,
    exposureLog,
    ...hooks,
  });
  return { service, exposureLog };
}
