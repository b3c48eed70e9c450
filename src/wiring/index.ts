import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/schema.js';
import { buildApp } from '../http/app.js';
import { Connections } from '../http/drain.js';
import type { Lifecycle } from '../http/routes/status.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { WorkerLink } from '../cluster.js';
import { applyAdminAction } from '../model-store/admin-actions.js';
import { FeedWatcher } from '../model-store/feed-watcher.js';
import { modelSources } from '../model-store/first-digests.js';
import { ModelStore } from '../model-store/store.js';
import { verifiedDigestsOf } from '../model-store/verified-digests.js';
import type { RecommendationService } from '../recommender/service.js';
import { SimilarItems } from '../recommender/similar.js';
import type { Scorer } from '../scorers/index.js';
import { sparkSaveImporter } from '../spark/feed-saves.js';
import { buildFallbacks } from './fallbacks.js';
import { metricHooks } from './metric-hooks.js';
import { buildScoring } from './scoring.js';
import { buildService } from './service.js';

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

/** config -> store -> kernel -> recommenders and experiments -> service -> HTTP; nothing listens or loads yet. */
export async function createServing(config: Readonly<ResolvedConfig>, logger: Logger, adminToken = config.secrets.adminToken): Promise<Serving> {
  const metrics = createMetrics();
  const hooks = metricHooks(metrics);
  const { scorer, threads, prepare } = buildScoring(config, logger);
  const store: ModelStore = new ModelStore(modelSources(config), {
    logger,
    verifyChecksums: config.scoring.verifyChecksums,
    verifiedDigests: verifiedDigestsOf(config),
    threads,
    rawUpdates: sparkSaveImporter(config.reload.sparkCacheDir),
    prepare,
    onLoad: hooks.onModelLoad(() => store),
  });
  const watcher = new FeedWatcher(store, { pollIntervalMs: config.reload.pollIntervalMs, watchEvents: config.reload.watchEvents, logger });
  const fallbacks = await buildFallbacks(config, logger, hooks.fallbacks);
  hooks.watchBreakers([...fallbacks.guarded.values()]);
  const { service, exposureLog } = buildService(config, { store, scorer, fallbacks, logger, hooks: hooks.service });
  // In a cluster worker: /metrics aggregates every worker, and admin actions reach the others.
  const link = WorkerLink.active
    ? new WorkerLink(metrics.registry, (action) => void applyAdminAction(store, action).catch((err: Error) => logger.warn({ action, err: err.message }, 'admin action from another worker failed here')))
    : undefined;
  const lifecycle: Lifecycle = { draining: false };
  const app = await buildApp({
    store,
    service,
    similar: new SimilarItems(store, scorer),
    defaultModel: config.models[0]!.name,
    fallbacks: [...fallbacks.guarded.values()],
    metricsText: link ? () => link.clusterMetrics() : () => metrics.registry.metrics(),
    metricsContentType: metrics.registry.contentType,
    onAdminAction: link ? (action) => link.broadcast(action) : undefined,
    metrics,
    logger,
    adminToken,
    lifecycle,
  });
  let closing: Promise<void> | undefined;
  return {
    app,
    lifecycle,
    connections: new Connections(app.server),
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
        await fallbacks.close();
      })()),
  };
}
