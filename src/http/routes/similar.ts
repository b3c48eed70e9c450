import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { SimilarItems } from '../../recommender/similar.js';
import { SERVING_ERRORS, SimilarItemsBody, SimilarParams, SimilarQuery } from '../schemas.js';
import { parseExclude } from './recommend.js';

export const similarRoutes: FastifyPluginAsync<{ similar: SimilarItems; defaultModel: string }> = async (app, { similar, defaultModel }) => {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/similar/:itemId',
    {
      schema: {
        summary: 'The items closest to an item by the cosine of their factors (exact top-N)',
        tags: ['recommend'],
        params: SimilarParams,
        querystring: SimilarQuery,
        response: { 200: SimilarItemsBody, ...SERVING_ERRORS },
      },
    },
    async (request, reply) => {
      const { itemId } = request.params;
      const { n, exclude, model = defaultModel } = request.query;
      const answer = await similar.similar({ model, itemId, n, exclude: parseExclude(exclude) });
      reply.header('x-recserve-model-version', answer.model!.version);
      return { itemId, items: answer.items, model: answer.model! };
    },
  );
};
