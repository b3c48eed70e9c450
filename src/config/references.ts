import { FLOAT32_KERNELS } from '../shared.js';
import type { Config, ExperimentConfig, FallbackConfig, RecommenderConfig, ResolvedConfig } from './schema.js';

/** Fills the sections whose defaults depend on other fields: one als recommender per model, one experiment. */
export function withDerivedDefaults(config: Config, secrets: ResolvedConfig['secrets'], cores: number): ResolvedConfig {
  const recommenders: Record<string, RecommenderConfig> =
    config.recommenders ?? Object.fromEntries(config.models.map((m) => [m.name, { kind: 'als', model: m.name }]));
  const first = config.models[0]!.name;
  const experiments: ExperimentConfig[] = config.experiments ?? [
    { name: 'default', salt: 'default', buckets: 10_000, hash: 'murmur3', variants: [{ name: first, weight: 1, recommender: first, foldIn: true, fallback: [] }] },
  ];
  // One worker per two cores: on 2 cores one worker scoring on two threads measured more req/s and a lower
  // p99 than two workers with one thread each (docs/benchmarks.md).
  const workers = config.workers ?? Math.max(1, Math.floor(cores / 2));
  return { ...config, recommenders, experiments, defaultExperiment: config.defaultExperiment ?? experiments[0]!.name, workers, secrets };
}

function duplicate(names: string[]): string | undefined {
  return names.find((n, i) => names.indexOf(n) !== i);
}

const list = (names: readonly string[]) => names.map((n) => JSON.stringify(n)).join(', ');

/** Checks what a schema cannot: that every name refers to something configured. Returns the first problem. */
export function checkReferences(config: ResolvedConfig): string | null {
  const models = config.models.map((m) => m.name);
  const dupModel = duplicate(models);
  if (dupModel) return `field models: model ${dupModel} is listed twice`;
  if (!config.scoring.kernels.some((k) => FLOAT32_KERNELS.includes(k))) {
    return `field scoring.kernels needs a kernel for float32 bundles (${list(FLOAT32_KERNELS)}); it has ${list(config.scoring.kernels)}`;
  }

  const needs: Record<RecommenderConfig['kind'], (keyof RecommenderConfig)[]> = { als: ['model'], onnx: ['model', 'factors'], static: ['file'] };
  for (const [name, r] of Object.entries(config.recommenders)) {
    for (const key of needs[r.kind]) {
      if (r[key] === undefined) return `field recommenders.${name}.${key} is required for kind ${r.kind}`;
    }
    for (const key of ['model', 'factors'] as const) {
      const ref = r[key];
      if (ref !== undefined && !models.includes(ref)) return `field recommenders.${name}.${key}: unknown model ${JSON.stringify(ref)} (configured: ${list(models)})`;
    }
  }

  const fallbackNeeds: Record<FallbackConfig['kind'], (keyof FallbackConfig)[]> = { redis: ['url'], cassandra: ['contactPoints'], static: ['file'] };
  for (const [name, f] of Object.entries(config.fallbacks)) {
    for (const key of fallbackNeeds[f.kind]) {
      if (f[key] === undefined) return `field fallbacks.${name}.${key} is required for kind ${f.kind}`;
    }
  }
  const fallbacks = Object.keys(config.fallbacks);

  const recommenders = Object.keys(config.recommenders);
  const dupExperiment = duplicate(config.experiments.map((e) => e.name));
  if (dupExperiment) return `field experiments: experiment ${dupExperiment} is listed twice`;
  for (const [i, e] of config.experiments.entries()) {
    const variants = e.variants.map((v) => v.name);
    const dupVariant = duplicate(variants);
    if (dupVariant) return `field experiments.${i}.variants: duplicate variant name ${JSON.stringify(dupVariant)}`;
    for (const [j, v] of e.variants.entries()) {
      if (!recommenders.includes(v.recommender)) return `field experiments.${i}.variants.${j}.recommender: unknown recommender ${JSON.stringify(v.recommender)} (configured: ${list(recommenders)})`;
      for (const [k, f] of (v.fallback ?? []).entries()) {
        if (!fallbacks.includes(f)) return `field experiments.${i}.variants.${j}.fallback.${k}: unknown fallback ${JSON.stringify(f)} (configured: ${list(fallbacks)})`;
      }
      if (v.writeBehind) {
        const target = config.fallbacks[v.writeBehind.to];
        if (!target) return `field experiments.${i}.variants.${j}.writeBehind.to: unknown fallback ${JSON.stringify(v.writeBehind.to)} (configured: ${list(fallbacks)})`;
        if (target.kind === 'static') return `field experiments.${i}.variants.${j}.writeBehind.to: ${v.writeBehind.to} is a static source and cannot be written`;
      }
    }
    for (const [userId, variant] of Object.entries(e.overrides ?? {})) {
      if (!variants.includes(variant)) return `field experiments.${i}.overrides.${userId}: unknown variant ${JSON.stringify(variant)} (variants: ${list(variants)})`;
    }
  }
  if (!config.experiments.some((e) => e.name === config.defaultExperiment)) {
    return `field defaultExperiment: unknown experiment ${JSON.stringify(config.defaultExperiment)}`;
  }
  return null;
}
