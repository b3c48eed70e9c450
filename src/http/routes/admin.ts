import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { RecserveError } from '../../errors.js';
import type { ModelStore } from '../../model-store/store.js';
import { applyAdminAction, type AdminAction } from '../../model-store/admin-actions.js';
import { AdminModelsBody, ErrorBody, ModelStatus } from '../schemas.js';
import { MODEL_NAME_PATTERN } from '../../config/schema.js';
import { UPDATE_ID_SOURCE } from '../../shared.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares digests, so neither the token's content nor its length leaks through timing. */
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const token = header?.startsWith('Bearer ') ? header.slice(7) : '';
  return timingSafeEqual(digest(token), expected);
}

/** How many times a header came, whatever its case (rawHeaders alternates names and values). */
function headerCount(rawHeaders: string[], name: string): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) count++;
  return count;
}

const NameParams = Type.Object({ name: Type.String({ pattern: MODEL_NAME_PATTERN }) });
const PinBody = Type.Object({ version: Type.String({ pattern: UPDATE_ID_SOURCE, description: 'a complete update id of the model' }) }, { additionalProperties: false });
const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/** Operator control of the models; registered only when RECSERVE_ADMIN_TOKEN is set. */
export const adminRoutes: FastifyPluginAsync<{ store: ModelStore; token: string; onAction?: (action: AdminAction) => void }> = async (app, { store, token, onAction }) => {
  const expected = digest(token);
  app.addHook('onRequest', async (request) => {
    // Node keeps the first of repeated Authorization headers and drops the rest: refuse the ambiguity instead.
    if (headerCount(request.raw.rawHeaders, 'authorization') > 1) throw new RecserveError('unauthorized', 'send exactly one Authorization header');
    if (!bearerMatches(request.headers.authorization, expected)) throw new RecserveError('unauthorized', 'admin routes need Authorization: Bearer <RECSERVE_ADMIN_TOKEN>');
  });
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const statusOf = async (name: string) => (await store.adminStatus()).find((m) => m.name === name)!;
  /** Carries out the action here and has every other worker repeat it. A failed pin is the answer; a failed reload or unpin shows in the model's status. */
  const act = async (action: AdminAction) => {
    if (!store.has(action.name)) throw new RecserveError('unknown_model', `model ${action.name} is not configured`);
    const done = applyAdminAction(store, action);
    await (action.action === 'pin' ? done : done.catch(() => undefined));
    onAction?.(action);
    return statusOf(action.name);
  };

  typed.get('/admin/models', { schema: { summary: 'Serving version, candidates, pin and last error of every model', tags: ['admin'], security: [{ bearer: [] }], response: { 200: AdminModelsBody, ...errors } } }, async () => ({
    models: await store.adminStatus(),
  }));

  typed.post('/admin/models/:name/reload', { schema: { summary: 'Look for a newer update now', tags: ['admin'], security: [{ bearer: [] }], params: NameParams, response: { 200: ModelStatus, ...errors } } }, async (request) => {
    return act({ action: 'reload', name: request.params.name });
  });

  typed.post('/admin/models/:name/pin', { schema: { summary: 'Serve this update and stop following the feed', tags: ['admin'], security: [{ bearer: [] }], params: NameParams, body: PinBody, response: { 200: ModelStatus, ...errors } } }, async (request) => {
    return act({ action: 'pin', name: request.params.name, version: request.body.version });
  });

  typed.post('/admin/models/:name/unpin', { schema: { summary: 'Follow the feed again', tags: ['admin'], security: [{ bearer: [] }], params: NameParams, response: { 200: ModelStatus, ...errors } } }, async (request) => {
    return act({ action: 'unpin', name: request.params.name });
  });
};
