import { RecserveError } from '../errors.js';
import { assign, type Experiment } from '../variants/experiments.js';
import type { ExposureLog } from './exposure-log.js';
import type { ItemRecommender, ScoredItemId } from './kinds/types.js';

export interface RecommendRequest {
  userId: string;
  n: number;
  exclude: readonly string[];
  /** A configured experiment; the default experiment when absent. */
  experiment?: string;
  /** A variant to force (QA); honoured only when the config allows it. */
  forcedVariant?: string;
}

export interface Recommendation {
  userId: string;
  items: ScoredItemId[];
  model: { name: string; version: string } | null;
  source: 'model' | 'static';
  experiment: string;
  variant: string;
  bucket: number;
}

export interface ServiceOptions {
  experiments: ReadonlyMap<string, Experiment>;
  defaultExperiment: string;
  recommenders: ReadonlyMap<string, ItemRecommender>;
  allowForcedVariant: boolean;
  exposureLog?: ExposureLog;
}

/** Request -> experiment -> variant -> recommender -> answer, with the assignment reported and logged. */
export class RecommendationService {
  constructor(private readonly options: ServiceOptions) {}

  async recommend(request: RecommendRequest): Promise<Recommendation> {
    const { experiments, defaultExperiment, recommenders, allowForcedVariant, exposureLog } = this.options;
    const name = request.experiment ?? defaultExperiment;
    const experiment = experiments.get(name);
    if (!experiment) throw new RecserveError('unknown_experiment', `experiment ${name} is not configured`);
    const assignment = assign(experiment, request.userId, allowForcedVariant ? request.forcedVariant : undefined);
    const recommender = recommenders.get(assignment.recommender)!;
    const answer = await recommender.recommend(request);
    const source = recommender.kind === 'static' ? 'static' : 'model';
    exposureLog?.write({ experiment: name, variant: assignment.variant, bucket: assignment.bucket, userId: request.userId, source, modelVersion: answer.model?.version ?? null });
    return { userId: request.userId, items: answer.items, model: answer.model, source, experiment: name, variant: assignment.variant, bucket: assignment.bucket };
  }
}
