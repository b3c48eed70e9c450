import { Type, type Static } from 'typebox';
import { ITEM_ENCODINGS } from './quantize.js';

/** What the store reports of one configured model: one schema for `/models`, the admin routes and the store's type. */
export const ModelStatus = Type.Object({
  name: Type.String(),
  kind: Type.Union([Type.Literal('als'), Type.Literal('onnx'), Type.Null()]),
  loaded: Type.Boolean(),
  version: Type.Union([Type.String(), Type.Null()]),
  rank: Type.Union([Type.Integer(), Type.Null()]),
  numUsers: Type.Union([Type.Integer(), Type.Null()]),
  numItems: Type.Union([Type.Integer(), Type.Null()]),
  itemEncoding: Type.Union([Type.Enum(ITEM_ENCODINGS), Type.Null()], {
    description: 'als: the encoding the bundle carries; int8 candidates are re-scored exactly in float32',
  }),
  loadedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
});
export type ModelStatus = Static<typeof ModelStatus>;

export const ModelAdminStatus = Type.Intersect([
  ModelStatus,
  Type.Object({
    pinned: Type.Union([Type.String(), Type.Null()]),
    candidates: Type.Array(Type.String(), { description: 'complete updates in the feed, oldest first' }),
    rejected: Type.Array(Type.Object({ version: Type.String(), reason: Type.String() }), { description: 'updates refused since start-up; not tried again' }),
  }),
]);
export type ModelAdminStatus = Static<typeof ModelAdminStatus>;
