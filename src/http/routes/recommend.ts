import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { isRecserveError, RecserveError } from '../../errors.js';
import type { RecommendationService } from '../../recommender/service.js';
import { BatchBody, BatchErrorLine, ErrorBody, MAX_EXCLUDE, MAX_ID_LENGTH, Recommendation, RecommendBody, RecommendHeaders, RecommendParams, RecommendQuery, SERVING_ERRORS } from '../schemas.js';

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
        response: { 200: Recommendation, ...SERVING_ERRORS },
      },
    },
    async (request, reply) => {
      const { userId } = request.params;
      const { n, exclude, experiment } = request.query;
      const result = await service.recommend({ userId, n, exclude: parseExclude(exclude), experiment, forcedVariant: request.headers['x-recserve-variant'], receivedAt: arrival(reply) });
      return withHeaders(reply, result);
    },
  );

  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/recommend',
    {
      schema: {
        summary: 'Top-N items for a user from what they just did: a user the model does not know is folded in from their interactions',
        tags: ['recommend'],
        body: RecommendBody,
        headers: RecommendHeaders,
        response: { 200: Recommendation, ...SERVING_ERRORS },
      },
    },
    async (request, reply) => {
      const { userId, interactions, n, exclude, excludeInteracted, experiment } = request.body;
      const leaveOut = excludeInteracted ? [...new Set([...exclude, ...interactions.map((i) => i.itemId)])] : exclude;
      const result = await service.recommend({
        userId: userId ?? null,
        n,
        exclude: leaveOut,
        interactions,
        experiment,
        forcedVariant: request.headers['x-recserve-variant'],
        receivedAt: arrival(reply),
      });
      return withHeaders(reply, result);
    },
  );

  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/recommend/batch',
    {
      schema: {
        summary: 'Top-N items for many users at once (campaigns, precomputation), streamed as NDJSON in the order asked',
        description:
          'One line per user: the object GET /recommend/:userId returns, or {userId, error, message} for a user who got no answer. Users share passes over the item matrix; a batch has no per-request deadline.',
        tags: ['recommend'],
        body: BatchBody,
        response: {
          200: { description: 'one JSON object per line', content: { 'application/x-ndjson': { schema: Type.Union([Recommendation, BatchErrorLine]) } } },
          400: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const { userIds, n, exclude, experiment } = request.body;
      // An unknown experiment fails the whole batch before the first line.
      service.experimentOf(experiment);
      // Each line is written out as soon as its user is answered, so that the last scan's answers are all
      // that is left to write when it ends (written at the end of each chunk, the last chunk's 232 lines
      // took 2.9 ms after the last scan of a 42 ms batch).
      const lines = service.recommendBatch(userIds, { n, exclude, experiment }, {
        answered: lineOf,
        failed: (userId, err) => {
          if (!isRecserveError(err)) request.log.error({ err, userId }, 'a batch line failed');
          const line: BatchErrorLine = { userId, error: isRecserveError(err) ? err.code : 'internal', message: isRecserveError(err) ? err.message : 'an unexpected server error' };
          return lineOf(line);
        },
      });
      // A stream is sent as is, not serialised against the response schema.
      return reply.type('application/x-ndjson').send(Readable.from(batchChunks(lines)) as never);
    },
  );
};

/**
 * Lines written together: each write is a system call (on loopback, the reader's wake-up too), and with
 * 32 lines a write they took a quarter of the event loop (a batch of 1,000: 16,453 against 18,788 users/s
 * with 256).
 */
const LINES_PER_CHUNK = 256;

/**
 * A batch's NDJSON line: JSON.stringify, not the schema's compiled serialiser, which builds each line from
 * many small strings (batches ran 2-5% slower with it: 19,953-20,010 against 20,301-21,075 users/s). Where
 * the recommender wrote the items' JSON already, the rest is JSON.stringify's and the items are spliced in:
 * `"items":0` can only be the key, since JSON escapes the quotes of any string value before it.
 */
function lineOf(answer: Recommendation | BatchErrorLine, itemsJson?: string): string {
  if (itemsJson === undefined) return `${JSON.stringify(answer)}\n`;
  const rest = JSON.stringify({ ...answer, items: 0 });
  const at = rest.indexOf(ITEMS_PLACEHOLDER) + ITEMS_KEY.length;
  return `${rest.slice(0, at)}${itemsJson}${rest.slice(at + 1)}\n`;
}

const ITEMS_KEY = '"items":';
const ITEMS_PLACEHOLDER = `${ITEMS_KEY}0`;

/** The lines of a batch, in the order of its users, written a chunk of lines at a time as they are answered. */
async function* batchChunks(lines: readonly Promise<string>[]): AsyncGenerator<string> {
  for (let first = 0; first < lines.length; first += LINES_PER_CHUNK) yield (await Promise.all(lines.slice(first, first + LINES_PER_CHUNK))).join('');
}

/** performance.now() when the request arrived: the deadline counts from there. */
function arrival(reply: FastifyReply): number {
  return performance.now() - reply.elapsedTime;
}

/** The assignment and the source as headers too, for proxies and logs that do not parse bodies. */
function withHeaders(reply: FastifyReply, result: Recommendation): Recommendation {
  reply.header('x-recserve-experiment', result.experiment).header('x-recserve-variant', result.variant).header('x-recserve-source', result.source);
  if (result.model) reply.header('x-recserve-model-version', result.model.version);
  return result;
}
