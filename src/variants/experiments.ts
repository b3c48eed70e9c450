import type { ExperimentConfig } from '../config/schema.js';
import { RecserveError } from '../errors.js';
import { bucketOf, variantBounds, variantIndex, type HashMode } from '../hashing/bucketing.js';

export interface Experiment {
  readonly name: string;
  readonly salt: string;
  readonly buckets: number;
  readonly hash: HashMode;
  readonly variants: readonly { name: string; recommender: string }[];
  /** Exclusive upper bucket of each variant. */
  readonly bounds: readonly number[];
  readonly overrides: ReadonlyMap<string, number>;
}

export interface Assignment {
  variant: string;
  recommender: string;
  /** The user's bucket by hash, reported even when an override or a forced variant wins; null for an anonymous request. */
  bucket: number | null;
}

/** What assignment needs of an experiment's config: no fallbacks or write-behind. */
export type ExperimentSpec = Omit<ExperimentConfig, 'variants'> & { variants: { name: string; weight: number; recommender: string }[] };

export function compileExperiment(config: ExperimentSpec): Experiment {
  const index = new Map(config.variants.map((v, i) => [v.name, i]));
  return Object.freeze({
    name: config.name,
    salt: config.salt,
    buckets: config.buckets,
    hash: config.hash,
    variants: config.variants.map(({ name, recommender }) => ({ name, recommender })),
    bounds: variantBounds(config.variants.map((v) => v.weight), config.buckets),
    overrides: new Map(Object.entries(config.overrides ?? {}).map(([userId, variant]) => [userId, index.get(variant)!])),
  });
}

/**
 * The variant a user sees: a forced variant (QA), else an override, else the variant owning the user's
 * bucket. An anonymous request (no user id) has no bucket: it sees the first variant, the control.
 */
export function assign(experiment: Experiment, userId: string | null, forced?: string): Assignment {
  const bucket = userId === null ? null : bucketOf(experiment.salt, userId, experiment.buckets, experiment.hash);
  let i: number;
  if (forced !== undefined) {
    i = experiment.variants.findIndex((v) => v.name === forced);
    if (i < 0) throw new RecserveError('unknown_variant', `experiment ${experiment.name} has no variant ${JSON.stringify(forced)}`);
  } else {
    i = userId === null || bucket === null ? 0 : (experiment.overrides.get(userId) ?? variantIndex(bucket, experiment.bounds));
  }
  const variant = experiment.variants[i]!;
  return { variant: variant.name, recommender: variant.recommender, bucket };
}
