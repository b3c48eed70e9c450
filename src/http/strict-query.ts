import type { RouteOptions } from 'fastify';
import { RecserveError } from '../errors.js';
import { echo } from './errors.js';

interface QuerySchema {
  properties?: Record<string, { type?: string }>;
}

const NO_QUERY = { type: 'object', properties: {}, additionalProperties: false };
const DECIMAL = /^-?[0-9]+$/;

/**
 * Makes every API route strict about its query string: a route without a query schema takes none (an
 * unknown parameter is a 400), and integer parameters are decimal digits only (Ajv would read `0x10`
 * or `1e2` as numbers). The bundled /docs routes are left as they come.
 */
export function strictQueries(route: RouteOptions): void {
  if (route.url.startsWith('/docs')) return;
  route.schema ??= {};
  route.schema.querystring ??= NO_QUERY;
  const integers = Object.entries((route.schema.querystring as QuerySchema).properties ?? {})
    .filter(([, property]) => property.type === 'integer')
    .map(([name]) => name);
  if (integers.length === 0) return;
  const checkDecimal = async (request: { query: unknown }) => {
    const query = request.query as Record<string, unknown>;
    for (const name of integers) {
      const value = query[name];
      if (typeof value === 'string' && !DECIMAL.test(value)) throw new RecserveError('invalid_request', `${name} must be a decimal integer; got ${echo(value)}`);
      if (Array.isArray(value)) throw new RecserveError('invalid_request', `${name} is given more than once`);
    }
  };
  route.preValidation = [...(route.preValidation === undefined ? [] : Array.isArray(route.preValidation) ? route.preValidation : [route.preValidation]), checkDecimal];
}
