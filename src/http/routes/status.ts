import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { GuardedSource } from '../../fallback/guarded.js';
import type { ModelStore } from '../../model-store/store.js';
import { HealthBody, ModelsBody, ReadyBody } from '../schemas.js';

/** Shared with the process. */
export interface Lifecycle {
  /**
   * Set once SIGTERM arrives: /readyz answers 503 so load balancers move on, and every answer closes its
   * connection so keep-alive clients reconnect (through the balancer) rather than wait to be cut off.
   */
  draining: boolean;
}

export const statusRoutes: FastifyPluginAsync<{ store: ModelStore; fallbacks: readonly GuardedSource[]; lifecycle: Lifecycle }> = async (app, { store, fallbacks, lifecycle }) => {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.get('/healthz', { schema: { summary: 'The process is alive; the state of each fallback store', tags: ['status'], response: { 200: HealthBody } } }, async () => ({
    status: 'ok',
    stores: fallbacks.map((g) => ({ name: g.source.name, kind: g.source.kind, state: g.source.state(), breaker: g.breakerState })),
  }));
  typed.get(
    '/readyz',
    { schema: { summary: 'Ready while every configured model is loaded and the process is not shutting down', tags: ['status'], response: { 200: ReadyBody, 503: ReadyBody } } },
    async (_request, reply) => {
      const models = store.status().map(({ name, loaded }) => ({ name, loaded }));
      const ready = store.ready && !lifecycle.draining;
      return reply.status(ready ? 200 : 503).send({ ready, models });
    },
  );
  typed.get('/models', { schema: { summary: 'Each configured model and the update it serves', tags: ['status'], response: { 200: ModelsBody } } }, async () => ({
    models: store.status(),
  }));
};
