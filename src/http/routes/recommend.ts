import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { RecserveError } from '../../errors.js';
import type { RecommendationService } from '../../recommender/service.js';
import { ErrorBody, MAX_EXCLUDE, MAX_ID_LENGTH, Recommendation, RecommendHeaders, RecommendParams, RecommendQuery } from '../schemas.js';

/** `1,2,3` -> ids; a list with an empty or over-long id, or too many ids, is a 400. */
export function parseExclude(raw: string | undefined): string[] {
  if (raw === undefined || raw === '') return [];
  const ids = raw.split(',');
  if (ids.length > MAX_EXCLUDE) throw new RecserveError('invalid_request', `exclude holds ${ids.length} ids; at most ${MAX_EXCLUDE} are allowed`);
  for (const id of ids) {
    if (id.length === 0 || id.length > MAX_ID_LENGTH) {
      throw new RecserveError('invalid_request', `exclude must be comma-separated ids of 1..${MAX_ID_LENGTH} characters; got ${JSON.stringify(id.slice(0, 40))}`);
    }
  }
  return ids;
}

export const recommendRoutes: FastifyPluginAsync<{ service: RecommendationService }> = async (app, { service }) => {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/recommend/:userId',
    {
      schema: {
        summary: 'Top-N items for one user, from the variant the user is assigned to',
        tags: ['recommend'],
        params: RecommendParams,
        querystring: RecommendQuery,
        headers: RecommendHeaders,
        response: { 200: Recommendation, 400: ErrorBody, 404: ErrorBody, 500: ErrorBody, 503: ErrorBody },
      },
    },
    async (request, reply) => {
      const { userId } = request.params;
      const { n, exclude, experiment } = request.query;
      const receivedAt = performance.now() - reply.elapsedTime;
      const result = await service.recommend({ userId, n, exclude: parseExclude(exclude), experiment, forcedVariant: request.headers['x-recserve-variant'], receivedAt });
      reply.header('x-recserve-experiment', result.experiment).header('x-recserve-variant', result.variant).header('x-recserve-source', result.source);
      if (result.model) reply.header('x-recserve-model-version', result.model.version);
      return result;
    },
  );
};
