import { Type, type Static } from 'typebox';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import { MODEL_NAME_PATTERN } from '../config/schema.js';
import { FALLBACK_REASONS, SOURCES } from '../recommender/service.js';
import { ModelAdminStatus, ModelStatus } from '../model-store/status.js';

export { ModelStatus };

export const MAX_EXCLUDE = 1000;
export { MAX_ID_LENGTH } from '../shared.js';
import { MAX_ID_LENGTH } from '../shared.js';

export const ErrorBody = Type.Object(
  {
    error: Type.Enum(Object.keys(ERROR_CODES) as ErrorCode[], { description: 'machine-readable code' }),
    message: Type.String(),
  },
  { $id: 'ErrorBody' },
);
export type ErrorBody = Static<typeof ErrorBody>;

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
  userId: Type.String(),
  items: Type.Array(Type.Object({ itemId: Type.String(), score: Type.Number() })),
  model: Type.Union([ModelRef, Type.Null()], { description: 'the model update that answered; null for a static list' }),
  source: Type.Enum(SOURCES, { description: 'what produced the items: the variant\'s model or static list, or a fallback source' }),
  fallbackReason: Type.Union([Type.Enum(FALLBACK_REASONS), Type.Null()], { description: 'why a fallback answered; null when the variant itself did' }),
  experiment: Type.String(),
  variant: Type.String(),
  bucket: Type.Integer({ description: "the user's bucket by hash (also when an override or forced variant applied)" }),
});

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
