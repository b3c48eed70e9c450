import { Type, type Static } from 'typebox';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import { MODEL_NAME_PATTERN } from '../config/schema.js';
import { FALLBACK_REASONS, SOURCES } from '../recommender/service.js';
import { ModelAdminStatus, ModelStatus } from '../model-store/status.js';

export { ModelStatus };

export const MAX_EXCLUDE = 1000;
/** The most users one POST /recommend/batch may ask for. */
export const MAX_BATCH_USERS = 1000;
/** Ratings and strengths beyond this are refused: their squares must stay far from overflow in the solve. */
export const MAX_RATING = 1e6;
export { MAX_ID_LENGTH } from '../shared.js';
import { MAX_ID_LENGTH, MAX_INTERACTIONS } from '../shared.js';

export const ErrorBody = Type.Object(
  {
    error: Type.Enum(Object.keys(ERROR_CODES) as ErrorCode[], { description: 'machine-readable code' }),
    message: Type.String(),
  },
  { $id: 'ErrorBody' },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** The errors a serving route answers with (bad request, unknown user/item/model, failure, unavailable). */
export const SERVING_ERRORS = { 400: ErrorBody, 404: ErrorBody, 500: ErrorBody, 503: ErrorBody } as const;

export const RecommendParams = Type.Object({
  userId: Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH, description: 'the user id, as in the model (Spark ids are integers)' }),
});

export const RecommendQuery = Type.Object(
  {
    n: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'how many items' }),
    exclude: Type.Optional(
      Type.String({
        maxLength: MAX_EXCLUDE * (MAX_ID_LENGTH + 1),
        description: `comma-separated item ids to leave out, at most ${MAX_EXCLUDE}, each 1..${MAX_ID_LENGTH} characters`,
      }),
    ),
    experiment: Type.Optional(Type.String({ pattern: MODEL_NAME_PATTERN, description: 'a configured experiment; default: the default experiment' })),
  },
  { additionalProperties: false },
);

export const ModelRef = Type.Object({ name: Type.String(), version: Type.String({ description: 'the feed update id served' }) });

export const RecommendHeaders = Type.Object({
  'x-recserve-variant': Type.Optional(Type.String({ maxLength: 64, description: 'force a variant (QA); honoured only when allowForcedVariant is set' })),
});

export const Recommendation = Type.Object({
  userId: Type.Union([Type.String(), Type.Null()], { description: 'null for an anonymous request' }),
  items: Type.Array(Type.Object({ itemId: Type.String(), score: Type.Number() })),
  model: Type.Union([ModelRef, Type.Null()], { description: 'the model update that answered; null for a static list' }),
  source: Type.Enum(SOURCES, { description: 'what produced the items: the variant\'s model or static list, or a fallback source' }),
  fallbackReason: Type.Union([Type.Enum(FALLBACK_REASONS), Type.Null()], { description: 'why a fallback answered; null when the variant itself did' }),
  experiment: Type.String(),
  variant: Type.String(),
  bucket: Type.Union([Type.Integer(), Type.Null()], { description: "the user's bucket by hash (also when an override or forced variant applied); null for an anonymous request" }),
});
export type Recommendation = Static<typeof Recommendation>;

const ItemId = Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH });

export const RecommendBody = Type.Object(
  {
    userId: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH, description: 'the user, when known to the caller; absent for an anonymous visitor (the first variant serves)' })),
    interactions: Type.Array(
      Type.Object(
        {
          itemId: ItemId,
          rating: Type.Optional(
            Type.Number({ minimum: -MAX_RATING, maximum: MAX_RATING, description: 'the rating (explicit feedback, required then) or the strength such as a count (implicit; default 1)' }),
          ),
        },
        { additionalProperties: false },
      ),
      { maxItems: MAX_INTERACTIONS, default: [], description: `what the user just did, at most ${MAX_INTERACTIONS}: folded in when the model does not know the user` },
    ),
    n: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'how many items' }),
    exclude: Type.Array(ItemId, { maxItems: MAX_EXCLUDE, default: [], description: 'item ids to leave out' }),
    excludeInteracted: Type.Boolean({ default: true, description: 'leave out the items of `interactions` too' }),
    experiment: Type.Optional(Type.String({ pattern: MODEL_NAME_PATTERN, description: 'a configured experiment; default: the default experiment' })),
  },
  { additionalProperties: false },
);

export const ModelsBody = Type.Object({ models: Type.Array(ModelStatus) });

export const AdminModelsBody = Type.Object({ models: Type.Array(ModelAdminStatus) });
export const HealthBody = Type.Object({
  status: Type.String(),
  stores: Type.Array(
    Type.Object({
      name: Type.String(),
      kind: Type.String(),
      state: Type.String({ description: 'connection state as the client library reports it' }),
      breaker: Type.String({ description: 'closed, open, half-open' }),
    }),
  ),
});
export const ReadyBody = Type.Object({ ready: Type.Boolean(), models: Type.Array(Type.Object({ name: Type.String(), loaded: Type.Boolean() })) });

export const SimilarParams = Type.Object({
  itemId: Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH, description: 'the item id, as in the model' }),
});

export const SimilarQuery = Type.Object(
  {
    n: RecommendQuery.properties.n,
    exclude: RecommendQuery.properties.exclude,
    model: Type.Optional(Type.String({ pattern: MODEL_NAME_PATTERN, description: 'a configured ALS model; default: the first' })),
  },
  { additionalProperties: false },
);

export const SimilarItemsBody = Type.Object({
  itemId: Type.String(),
  items: Type.Array(Type.Object({ itemId: Type.String(), score: Type.Number({ description: 'the cosine of the two items\' factors' }) })),
  model: ModelRef,
});

export const BatchBody = Type.Object(
  {
    userIds: Type.Array(Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH }), { minItems: 1, maxItems: MAX_BATCH_USERS, description: `the users, at most ${MAX_BATCH_USERS}` }),
    n: RecommendQuery.properties.n,
    exclude: Type.Array(ItemId, { maxItems: MAX_EXCLUDE, default: [], description: 'item ids to leave out for every user' }),
    experiment: RecommendQuery.properties.experiment,
  },
  { additionalProperties: false },
);

/** A line of a batch answer for a user who got no answer: the same shape as an error, with the user. */
export const BatchErrorLine = Type.Object({ userId: Type.String(), error: ErrorBody.properties.error, message: Type.String() });
export type BatchErrorLine = Static<typeof BatchErrorLine>;
