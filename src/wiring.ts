import { availableParallelism } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { RecommenderConfig, ResolvedConfig } from './config/schema.js';
import { buildApp } from './http/app.js';
import { Connections } from './http/drain.js';
import type { Lifecycle } from './http/routes/status.js';
import { ModelStore } from './model-store/store.js';
import { FeedWatcher } from './model-store/feed-watcher.js';
import { exposureFileSink, openExposureLog, type ExposureLog } from './recommender/exposure-log.js';
import { AlsRecommender } from './recommender/kinds/als.js';
import { OnnxRecommender } from './recommender/kinds/onnx.js';
import { StaticRecommender } from './recommender/kinds/static.js';
import type { ItemRecommender } from './recommender/kinds/types.js';
import { RecommendationService, type VariantPlan } from './recommender/service.js';
import { createSource, guard, type FallbackHooks } from './fallback/build.js';
import { createMetrics, type Metrics } from './metrics.js';
import { primaryExposureSink, WorkerLink } from './cluster.js';
import type { WritableSource } from './fallback/source.js';
import { loadStaticList } from './fallback/static-list.js';
import { createKernels, Scorer, type KernelChoice } from './scorers/index.js';
import { loadNative, type NativeAddon } from './native-addon.js';
import { modelSources } from './model-store/first-digests.js';
import { verifiedDigestsOf } from './model-store/verified-digests.js';
import type { ScoringStatus } from './model-store/status.js';
import { compileExperiment } from './variants/experiments.js';
import { sparkSaveImporter } from './spark/feed-saves.js';

export interface Serving {
  app: FastifyInstance;
  /** `draining` turns /readyz to 503 ahead of a shutdown and closes each connection after its answer. */
  lifecycle: Lifecycle;
  /** Open connections, to drain at shutdown. */
  connections: Connections;
  /** Follows the feeds once started (the server starts it after the first load). */
  watcher: FeedWatcher;
  metrics: Metrics;
  store: ModelStore;
  scorer: Scorer;
  service: RecommendationService;
  close(): Promise<void>;
}

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

/** config -> store -> kernel -> recommenders and experiments -> service -> HTTP; nothing listens or loads yet. */
export async function createServing(config: Readonly<ResolvedConfig>, logger: Logger, adminToken = config.secrets.adminToken): Promise<Serving> {
  // Workers share the cores: each scores on its share of them.
  const threads = config.scoring.threads ?? Math.max(1, Math.floor(availableParallelism() / config.workers));
  const { kernels: names, batching, maxBatch, gatherMs, rescoreCandidates } = config.scoring;
  const native = names.some((n) => n.startsWith('native-')) ? loadNative() : null;
  if (names.some((n) => n.startsWith('native-')) && !native) logger.warn('the native scans (build/Release/recserve_kernel.node) are not built: onnxruntime scores every request');
  const scorer = new Scorer({ kernels: createKernels(names, { threads, rescoreCandidates, native }), batching, maxBatch, gatherMs });
  const metrics = createMetrics();
  const store = new ModelStore(
    modelSources(config),
    {
      logger,
      verifyChecksums: config.scoring.verifyChecksums,
      verifiedDigests: verifiedDigestsOf(config),
      threads,
      rawUpdates: sparkSaveImporter(config.reload.sparkCacheDir),
      // Choose and warm the scoring before a snapshot is swapped in, not on its first request.
      prepare: async (s) => (s.kind === 'als' ? scoringStatus(await scorer.prepare(s), native) : null),
      onLoad: (model, result, snapshot) => {
        metrics.modelLoads.inc({ model, result });
        if (!snapshot) return;
        metrics.modelInfo.reset();
        for (const s of store.status()) if (s.version) metrics.modelInfo.set({ model: s.name, version: s.version }, 1);
        metrics.modelLastLoad.set({ model }, snapshot.loadedAt.getTime() / 1000);
      },
    },
  );
  const watcher = new FeedWatcher(store, { pollIntervalMs: config.reload.pollIntervalMs, watchEvents: config.reload.watchEvents, logger });
  const recommenders = new Map(Object.entries(config.recommenders).map(([name, r]) => [name, buildRecommender(r, store, scorer)]));
  const hooks: FallbackHooks = {
    onCorrupt: (store) => metrics.corruptPayloads.inc({ store }),
    onOutcome: (source, result) => metrics.cacheLookups.inc({ store: source.name, result }),
  };
  const sources = new Map(await Promise.all(Object.entries(config.fallbacks).map(async ([name, f]) => [name, await createSource(name, f, logger, hooks, config.secrets.passwords[name])] as const)));
  const guarded = new Map([...sources].map(([name, source]) => [name, guard(source, config.fallbacks[name]!, logger, hooks)]));
  const plans = new Map(
    config.experiments.map((e) => [
      e.name,
      new Map(
        e.variants.map((v): [string, VariantPlan] => [
          v.name,
          {
            recommender: v.recommender,
            fallback: v.fallback.map((f) => guarded.get(f)!),
            writeBehind: v.writeBehind && { to: sources.get(v.writeBehind.to) as WritableSource, ttlSeconds: v.writeBehind.ttlSeconds },
          },
        ]),
      ),
    ]),
  );
  const exposureLog: ExposureLog | undefined = config.exposureLog && openExposureLog(
    // In a cluster, the primary writes every worker's lines to the one file.
    WorkerLink.active ? primaryExposureSink() : exposureFileSink(config.exposureLog.destination, config.exposureLog.rotate),
    { ...config.exposureLog, onError: (err) => logger.error({ err: err.message }, 'exposure lines could not be written') },
  );
  const service = new RecommendationService({
    experiments: new Map(config.experiments.map((e) => [e.name, compileExperiment(e)])),
    defaultExperiment: config.defaultExperiment,
    recommenders,
    plans,
    allowForcedVariant: config.allowForcedVariant,
    deadlineMs: config.deadlineMs,
    logger,
    exposureLog,
    onFallback: (variant, source, reason) => metrics.fallbacks.inc({ variant, source, reason }),
    onServed: (experiment, variant, source, seconds) => {
      metrics.recommendDuration.observe({ experiment, variant, source }, seconds);
      metrics.exposures.inc({ experiment, variant });
    },
  });
  const breakerCodes: Record<string, number> = { closed: 0, 'half-open': 1, open: 2, isolated: 3 };
  metrics.breakers.read = () => [...guarded.values()].map((g) => [g.source.name, breakerCodes[g.breakerState] ?? -1]);
  const lifecycle: Lifecycle = { draining: false };
  // In a cluster worker: /metrics aggregates every worker, and admin actions reach the others.
  const link = WorkerLink.active
    ? new WorkerLink(metrics.registry, (a) => {
        const done = a.action === 'pin' ? store.pin(a.name, a.version!) : a.action === 'unpin' ? store.unpin(a.name) : store.refresh(a.name);
        done.catch((err: Error) => logger.warn({ action: a, err: err.message }, 'admin action from another worker failed here'));
      })
    : undefined;
  const app = await buildApp({
    store,
    service,
    fallbacks: [...guarded.values()],
    metricsText: link ? () => link.clusterMetrics() : () => metrics.registry.metrics(),
    metricsContentType: metrics.registry.contentType,
    onAdminAction: link ? (a) => link.broadcast(a) : undefined,
    metrics,
    logger,
    adminToken,
    lifecycle,
  });
  let closing: Promise<void> | undefined;
  const connections = new Connections(app.server);
  return {
    app,
    lifecycle,
    connections,
    watcher,
    metrics,
    store,
    scorer,
    service,
    // Idempotent: a signal handler and a test teardown may both ask.
    close: () =>
      (closing ??= (async () => {
        watcher.stop();
        await app.close();
        await scorer.close();
        await exposureLog?.close();
        await Promise.all([...sources.values()].map((s) => s.close()));
      })()),
  };
}
