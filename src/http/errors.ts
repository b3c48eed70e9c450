import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import { ERROR_CODES, RecserveError, type ErrorCode } from '../errors.js';
import { fieldName } from '../shared.js';
import type { ErrorBody } from './schemas.js';

/** How much of a client's input an error message may repeat. */
const ECHO_LIMIT = 40;

/** A short, quoted prefix of client input for an error message: never the whole (possibly huge or secret) value. */
export function echo(text: string): string {
  return JSON.stringify(text.length > ECHO_LIMIT ? `${text.slice(0, ECHO_LIMIT)}...` : text);
}

const body = (error: ErrorCode, message: string): ErrorBody => ({ error, message });

/** The first schema violation, in words that name the field but repeat at most a prefix of the value. */
function validationMessage(context: string | undefined, errors: FastifySchemaValidationError[]): string {
  const first = errors[0];
  if (!first) return 'the request is invalid';
  const where = [context ?? 'request', fieldName(first.instancePath, '')].filter(Boolean).join('.');
  const extra = (first.params as { additionalProperty?: string }).additionalProperty;
  if (extra !== undefined) return `${where}: unknown parameter ${echo(extra)}`;
  return `${where} ${first.message ?? 'is invalid'}`;
}

/** Errors Fastify raises before a route runs (a URL that does not decode, an over-long path segment). */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.raw.url ?? '';
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return reply.status(414).send(body('uri_too_long', `a path segment is too long (path starts ${echo(path)})`));
  return reply.status(400).send(body('invalid_request', `the URL is not valid (it starts ${echo(path)})`));
}

/** Connections answered for a client error: what they still send is read and dropped until they close. */
const answered = new WeakSet<Socket>();

/** How long an answered connection may go on sending before it is cut. */
const LINGER_MS = 1000;

/**
 * Malformed HTTP that never becomes a request (oversized headers, bad syntax, a timeout): answered in the
 * same `{error, message}` shape. The parser's error holds the raw bytes (headers and tokens included), so
 * only its code is logged. The answer ends the connection rather than destroying it: closing a socket whose
 * input is unread (most of oversized headers) makes the kernel reset the connection, and the reset can
 * reach the client before it has read the answer (Node 24 clients always saw it). The rest of the input
 * is read and dropped, for a second at most.
 */
export function clientErrorHandler(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) return;
  const [code, message]: [ErrorCode, string] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ['request_timeout', 'the request did not arrive in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? ['headers_too_large', 'the request headers are too large']
        : ['invalid_request', 'the request is not valid HTTP'];
  this.log.debug({ code: err.code }, 'client error');
  const status = ERROR_CODES[code].status;
  const text = JSON.stringify(body(code, message));
  if (!socket.writable) return void socket.destroy();
  answered.add(socket);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${text}`);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/** Every error leaves as `{error, message}` with the status its code is registered with. */
export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | RecserveError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof RecserveError) return reply.status(err.statusCode).send(body(err.code, err.message));
    const fastifyError = err as FastifyError;
    if (fastifyError.validation) return reply.status(400).send(body('invalid_request', validationMessage(fastifyError.validationContext, fastifyError.validation)));
    if (fastifyError.statusCode && fastifyError.statusCode < 500) {
      const status = fastifyError.statusCode;
      // Fastify's own client errors (a body too large, a bad content type, ...): their messages can quote input.
      return reply.status(status).send(body(status === 404 ? 'not_found' : 'invalid_request', `the request was refused (${fastifyError.code ?? `status ${status}`})`));
    }
    request.log.error({ err }, 'request failed');
    return reply.status(500).send(body('internal', 'internal error'));
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send(body('not_found', `no route ${request.method} ${echo(request.url.split('?')[0] ?? '')}`)));
}
