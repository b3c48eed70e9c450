import type { FastifyError, FastifyInstance } from 'fastify';
import { RecserveError } from '../errors.js';
import type { ErrorBody } from './schemas.js';

/** Every error leaves as `{error, message}` with the status its code is registered with. */
export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | RecserveError, request, reply) => {
    let status: number;
    let body: ErrorBody;
    if (err instanceof RecserveError) {
      status = err.statusCode;
      body = { error: err.code, message: err.message };
    } else if ((err as FastifyError).validation) {
      status = 400;
      body = { error: 'invalid_request', message: err.message };
    } else if ((err as FastifyError).statusCode && (err as FastifyError).statusCode! < 500) {
      status = (err as FastifyError).statusCode!;
      body = { error: status === 404 ? 'not_found' : 'invalid_request', message: err.message };
    } else {
      request.log.error({ err }, 'request failed');
      status = 500;
      body = { error: 'internal', message: 'internal error' };
    }
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } satisfies ErrorBody),
  );
}
