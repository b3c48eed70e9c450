import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds: from 100 µs, since a cached or small-model answer takes well under a millisecond. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** How often the event-loop delay is sampled (ms): the finest Node offers. */
const DELAY_RESOLUTION_MS = 1;

/**
 * The event loop's delay between scrapes (perf_hooks.monitorEventLoopDelay): how late a timer due every
 * millisecond fired, minus that millisecond, at quantiles 0.5, 0.9, 0.99 and 1 (the maximum). The event
 * loop only parses, dispatches and writes (scans run on the scoring threads), so this stays small under load.
 */
function eventLoopDelayGauge(registry: Registry) {
  const histogram = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
  histogram.enable();
  const seconds = (ns: number) => Math.max(0, ns / 1e6 - DELAY_RESOLUTION_MS) / 1000;
  return new Gauge({
    name: 'recserve_event_loop_delay_seconds',
    help: 'Event-loop delay since the previous scrape, by quantile (1 is the maximum), beyond the 1 ms sampling interval',
    labelNames: ['quantile'] as const,
    registers: [registry],
    aggregator: 'max',
    collect() {
      if (histogram.count === 0) return;
      for (const q of [0.5, 0.9, 0.99]) this.set({ quantile: String(q) }, seconds(histogram.percentile(q * 100)));
      this.set({ quantile: '1' }, seconds(histogram.max));
      histogram.reset();
    },
  });
}

/**
 * Every metric recserve exports, defined once. Labels never carry user or item ids.
 * One registry per service instance, so tests (and several instances in one process) stay apart.
 */
export function createMetrics() {
  const registry = new Registry();
  /** Set by the wiring: reads each fallback store's circuit at scrape time. */
  const breakers = { read: (): [string, number][] => [] };
  collectDefaultMetrics({ register: registry, prefix: 'recserve_' });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'recserve_http_request_duration_seconds',
      help: 'HTTP request duration by route template, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    recommendDuration: new Histogram({
      name: 'recserve_recommendation_duration_seconds',
      help: 'Time to answer a single recommendation request by experiment, variant and source (batch lines are counted by recserve_batch_lines_total)',
      labelNames: ['experiment', 'variant', 'source'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    exposures: countedAtScrape(registry, {
      name: 'recserve_exposures_total',
      help: 'Served assignments by experiment and variant, batch lines included',
      labelNames: ['experiment', 'variant'],
    }),
    batchLines: countedAtScrape(registry, {
      name: 'recserve_batch_lines_total',
      help: 'Lines of POST /recommend/batch answered, by experiment, variant and source',
      labelNames: ['experiment', 'variant', 'source'],
    }),
    breakerState: new Gauge({
      name: 'recserve_circuit_breaker_state',
      help: 'Circuit of each fallback store: 0 closed, 1 half-open, 2 open (3 isolated)',
      labelNames: ['store'] as const,
      registers: [registry],
      aggregator: 'max',
      collect() {
        for (const [store, code] of breakers.read()) this.set({ store }, code);
      },
    }),
    breakers,
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
      aggregator: 'max',
    }),
    modelLastLoad: new Gauge({
      name: 'recserve_model_last_load_timestamp_seconds',
      help: 'When each model last swapped in an update',
      labelNames: ['model'] as const,
      registers: [registry],
      aggregator: 'max',
    }),
    eventLoopDelay: eventLoopDelayGauge(registry),
    corruptPayloads: new Counter({
      name: 'recserve_cache_corrupt_payloads_total',
      help: 'Cached values refused as corrupt or oversized (served as misses), by store',
      labelNames: ['store'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** A count of one label set, kept by PendingCounts until the counter is scraped. */
export interface PendingCount {
  count: number;
}

/**
 * Counts kept in plain numbers and added to a counter when it is scraped (its collect): prom-client builds
 * a hash of the labels on every inc, a cost each served answer (a thousand a batch) would pay again.
 */
export class PendingCounts {
  private readonly counts: { labels: Record<string, string>; pending: PendingCount }[] = [];

  /** A count of these labels; several counts may share labels (they add up). */
  of(labels: Record<string, string>): PendingCount {
    const pending = { count: 0 };
    this.counts.push({ labels, pending });
    return pending;
  }

  /** Adds what was counted since the last scrape to the counter. */
  addTo(counter: Counter<string>): void {
    for (const { labels, pending } of this.counts) {
      if (pending.count === 0) continue;
      counter.inc(labels, pending.count);
      pending.count = 0;
    }
  }
}

/** A counter in `registry` that adds what its PendingCounts counted each time it is scraped. */
export function countedAtScrape(registry: Registry, { name, help, labelNames }: { name: string; help: string; labelNames: string[] }): PendingCounts {
  const counts = new PendingCounts();
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      counts.addTo(this);
    },
  });
  return counts;
}

/**
 * A metric's labelled children looked up by their label values: prom-client hashes a label object on every
 * update (0.6 KB of garbage per served answer, measured on batches). For metrics that are never reset: a
 * reset would leave the remembered children outside the registry.
 */
export function childrenByLabels<T>(make: (a: string, b: string, c: string) => T): (a: string, b: string, c: string) => T {
  const byA = new Map<string, Map<string, Map<string, T>>>();
  return (a, b, c) => {
    let byB = byA.get(a);
    if (!byB) byA.set(a, (byB = new Map()));
    let byC = byB.get(b);
    if (!byC) byB.set(b, (byC = new Map()));
    let child = byC.get(c);
    if (child === undefined) byC.set(c, (child = make(a, b, c)));
    return child;
  };
}
