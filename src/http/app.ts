import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from 'pino';
import type { GuardedSource } from '../fallback/guarded.js';
import { childrenByLabels, type Metrics } from '../metrics.js';
import type { AdminAction } from '../model-store/admin-actions.js';
import type { ModelStore } from '../model-store/store.js';
import type { RecommendationService } from '../recommender/service.js';
import type { SimilarItems } from '../recommender/similar.js';
import { similarRoutes } from './routes/similar.js';
import { clientErrorHandler, frameworkErrors, registerErrorHandlers } from './errors.js';
import { strictQueries } from './strict-query.js';
import { ErrorBody, MAX_ID_LENGTH } from './schemas.js';
import { recommendRoutes } from './routes/recommend.js';
import { statusRoutes, type Lifecycle } from './routes/status.js';
import { adminRoutes } from './routes/admin.js';

export interface AppDeps {
  store: ModelStore;
  service: RecommendationService;
  similar: SimilarItems;
  /** The model /similar answers from when a request names none. */
  defaultModel: string;
  fallbacks: readonly GuardedSource[];
  metrics: Metrics;
  /** The /metrics text: this process's, or every cluster worker's. */
  metricsText: () => Promise<string>;
  metricsContentType: string;
  /** Told of every admin action, so other cluster workers can repeat it. */
  onAdminAction?: (action: AdminAction) => void;
  logger: Logger;
  /** Enables /admin/* with this bearer token; without it those routes do not exist (404). */
  adminToken?: string;
  lifecycle: Lifecycle;
}

/** The HTTP application, wired to its dependencies; listening is the caller's business. */
export async function buildApp({ store, service, similar, defaultModel, fallbacks, metrics, metricsText, metricsContentType, onAdminAction, logger, adminToken, lifecycle }: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Long enough that an over-long user id reaches validation (400) rather than the router (404).
    routerOptions: { maxParamLength: MAX_ID_LENGTH * 8 },
    bodyLimit: 64 * 1024,
    // On close: idle keep-alive sockets are closed, requests arriving on busy ones get 503, in-flight ones finish.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // A log line per request would cost more than scoring a small model.
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors: frameworkErrors as FastifyServerOptions['frameworkErrors'],
    clientErrorHandler,
    // An unknown query parameter or body field is a 400, not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
  });
  app.addHook('onRoute', strictQueries);
  app.addSchema(ErrorBody);
  await app.register(swagger, {
    openapi: {
      info: { title: 'recserve', description: 'Recommendations from Spark ALS models', version: '1' },
      tags: [{ name: 'recommend' }, { name: 'status' }, { name: 'admin' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  registerErrorHandlers(app);
  // While draining, every answer closes its connection: the client reconnects to an instance still serving.
  // A callback hook, not an async one: no promise per request for a flag that is false until shutdown.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (lifecycle.draining) reply.header('connection', 'close');
    done(null, payload);
  });
  const httpDuration = childrenByLabels((route, method, status) => metrics.httpDuration.labels(route, method, status));
  app.addHook('onResponse', (request, reply, done) => {
    httpDuration(request.routeOptions.url ?? 'unmatched', request.method, String(reply.statusCode)).observe(reply.elapsedTime / 1000);
    done();
  });
  await app.register(recommendRoutes, { service });
  await app.register(similarRoutes, { similar, defaultModel });
  await app.register(statusRoutes, { store, fallbacks, lifecycle });
  if (adminToken) await app.register(adminRoutes, { store, token: adminToken, onAction: onAdminAction });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => reply.type(metricsContentType).send(await metricsText()));
  return app;
}
