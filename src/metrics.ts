import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric recserve exports, defined once. Labels never carry user or item ids.
 * One registry per service instance, so tests (and several instances in one process) stay apart.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'recserve_' });
  return {
    registry,
    fallbacks: new Counter({
      name: 'recserve_fallbacks_total',
      help: 'Requests answered by a fallback source, by variant, source and reason',
      labelNames: ['variant', 'source', 'reason'] as const,
      registers: [registry],
    }),
    cacheLookups: new Counter({
      name: 'recserve_cache_lookups_total',
      help: 'Fallback store lookups by store and result (hit, miss, error, timeout, open, no_time)',
      labelNames: ['store', 'result'] as const,
      registers: [registry],
    }),
    modelLoads: new Counter({
      name: 'recserve_model_loads_total',
      help: 'Model update loads by model and result (loaded, rejected)',
      labelNames: ['model', 'result'] as const,
      registers: [registry],
    }),
    modelInfo: new Gauge({
      name: 'recserve_model_info',
      help: 'The update each model serves: 1 for the serving (model, version)',
      labelNames: ['model', 'version'] as const,
      registers: [registry],
    }),
    modelLastLoad: new Gauge({
      name: 'recserve_model_last_load_timestamp_seconds',
      help: 'When each model last swapped in an update',
      labelNames: ['model'] as const,
      registers: [registry],
    }),
    corruptPayloads: new Counter({
      name: 'recserve_cache_corrupt_payloads_total',
      help: 'Cached values refused as corrupt or oversized (served as misses), by store',
      labelNames: ['store'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
