import { Type, type Static } from 'typebox';
import { HASH_MODES } from '../hashing/bucketing.js';
import { KERNEL_NAMES } from '../scorers/index.js';

export const MODEL_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const ModelConfig = Type.Object(
  {
    name: Type.String({ pattern: MODEL_NAME_PATTERN, description: 'model name: its folder in the feed' }),
    feed: Type.Optional(Type.String({ minLength: 1, description: 'feed root of this model; default: the top-level feed' })),
  },
  { additionalProperties: false },
);

const Name = (description: string) => Type.String({ pattern: MODEL_NAME_PATTERN, description });

const RecommenderConfig = Type.Object(
  {
    kind: Type.Enum(['als', 'onnx', 'static'], { description: 'als: an ALS model; onnx: an ONNX model fed ALS user factors; static: one list for everyone' }),
    model: Type.Optional(Name('als and onnx: the configured model to serve')),
    factors: Type.Optional(Name('onnx: the ALS model whose user factors feed the graph and whose item order the scores follow')),
    file: Type.Optional(Type.String({ minLength: 1, description: 'static: JSON file of ranked items' })),
  },
  { additionalProperties: false },
);

const VariantConfig = Type.Object(
  {
    name: Name('variant name, reported in responses'),
    weight: Type.Number({ exclusiveMinimum: 0, description: 'share of buckets, relative to the other variants' }),
    recommender: Type.String({ minLength: 1, description: 'a key of recommenders' }),
  },
  { additionalProperties: false },
);

export const ExperimentSchema = Type.Object(
  {
    name: Name('experiment name'),
    salt: Type.String({ minLength: 1, description: 'hashed with the user id; a new salt reshuffles the audience' }),
    buckets: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10_000 }),
    hash: Type.Enum(HASH_MODES, { default: 'murmur3' }),
    variants: Type.Array(VariantConfig, { minItems: 1 }),
    overrides: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'userId -> variant name, winning over the hash' })),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: '0.0.0.0' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    logLevel: Type.Enum(LOG_LEVELS, { default: 'info' }),
    feed: Type.String({ minLength: 1, default: './models', description: 'feed root: <feed>/<model>/v1/<updateId>/' }),
    models: Type.Array(ModelConfig, { minItems: 1, description: 'models to serve; the first is the default' }),
    scoring: Type.Object(
      {
        kernel: Type.Enum(KERNEL_NAMES, { default: 'onnx' }),
        threads: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, description: 'threads per scoring call; default: every core' })),
        verifyChecksums: Type.Boolean({ default: true, description: 'check every data file against its sha256 at load' }),
      },
      { additionalProperties: false, default: {} },
    ),
    recommenders: Type.Optional(Type.Record(Type.String({ pattern: MODEL_NAME_PATTERN }), RecommenderConfig, { description: 'default: one als recommender per model, named after it' })),
    experiments: Type.Optional(Type.Array(ExperimentSchema, { minItems: 1, description: 'default: one experiment "default" serving the first model' })),
    defaultExperiment: Type.Optional(Type.String({ description: 'default: the first experiment' })),
    allowForcedVariant: Type.Boolean({ default: false, description: 'honour the x-recserve-variant request header (QA only)' }),
    exposureLog: Type.Optional(
      Type.Object(
        {
          destination: Type.String({ minLength: 1, description: '"stdout" or a file path (appended)' }),
          sampleRate: Type.Number({ minimum: 0, maximum: 1, default: 1, description: 'share of users logged, chosen by a hash of the user id' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type RecommenderConfig = Static<typeof RecommenderConfig>;
export type ExperimentConfig = Static<typeof ExperimentSchema>;

/** A config after defaults that depend on other fields are filled in: every optional section is present. */
export type ResolvedConfig = Omit<Config, 'recommenders' | 'experiments' | 'defaultExperiment'> & {
  recommenders: Record<string, RecommenderConfig>;
  experiments: ExperimentConfig[];
  defaultExperiment: string;
};
