import { Type, type Static } from 'typebox';
import { ITEM_ENCODINGS } from './quantize.js';

/** How an ALS model is scored: chosen at load by timing each kernel that accepts it (scorers/choose.ts). */
export const ScoringStatus = Type.Object(
  {
    lone: Type.String({ description: 'the kernel serving lone requests and batches of fewer than 4' }),
    batched: Type.String({ description: 'the kernel serving batches of 4 or more' }),
    isa: Type.Union([Type.String(), Type.Null()], { description: 'native kernels: the instruction set of the lone kernel (avx512, avx2 or portable)' }),
    timings: Type.Array(Type.Object({ kernel: Type.String(), loneMs: Type.Number(), batchMs: Type.Number() }), {
      description: 'median ms of a lone top-10 and of a batch of 8, per kernel, measured on this model at load',
    }),
  },
  { additionalProperties: false },
);
export type ScoringStatus = Static<typeof ScoringStatus>;

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
  scoring: Type.Union([ScoringStatus, Type.Null()]),
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
