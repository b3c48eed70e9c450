import type { FallbackHooks } from '../fallback/build.js';
import type { GuardedSource } from '../fallback/guarded.js';
import { childrenByLabels, type Metrics } from '../metrics.js';
import type { ModelStore, ModelStoreOptions } from '../model-store/store.js';
import type { ServiceOptions } from '../recommender/service.js';

const BREAKER_CODES: Record<string, number> = { closed: 0, 'half-open': 1, open: 2, isolated: 3 };

/** Where each part of the serving stack reports to the metrics: every metric update lives here. */
export function metricHooks(metrics: Metrics) {
  const served = childrenByLabels((experiment, variant, source) => ({
    duration: metrics.recommendDuration.labels(experiment, variant, source),
    exposures: metrics.exposures.of({ experiment, variant }),
    batchLines: metrics.batchLines.of({ experiment, variant, source }),
  }));
  return {
    /** Load counts, and the version and time of what each model serves. */
    onModelLoad(store: () => ModelStore): NonNullable<ModelStoreOptions['onLoad']> {
      return (model, result, snapshot) => {
        metrics.modelLoads.inc({ model, result });
        if (!snapshot) return;
        metrics.modelInfo.reset();
        for (const s of store().status()) if (s.version) metrics.modelInfo.set({ model: s.name, version: s.version }, 1);
        metrics.modelLastLoad.set({ model }, snapshot.loadedAt.getTime() / 1000);
      };
    },
    fallbacks: {
      onCorrupt: (store) => metrics.corruptPayloads.inc({ store }),
      onOutcome: (source, result) => metrics.cacheLookups.inc({ store: source.name, result }),
    } satisfies FallbackHooks,
    service: {
      onFallback: (variant, source, reason) => metrics.fallbacks.inc({ variant, source, reason }),
      onServed: (experiment, variant, source, seconds) => {
        const children = served(experiment, variant, source);
        children.exposures.count++;
        if (seconds === null) children.batchLines.count++;
        else children.duration.observe(seconds);
      },
    } satisfies Pick<ServiceOptions, 'onFallback' | 'onServed'>,
    /** The breaker gauge reads each guarded store's state at scrape time. */
    watchBreakers(guarded: readonly GuardedSource[]): void {
      metrics.breakers.read = () => guarded.map((g) => [g.source.name, BREAKER_CODES[g.breakerState] ?? -1]);
    },
  };
}
