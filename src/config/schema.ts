import { Type, type Static } from 'typebox';
import { CONSISTENCY_LEVELS, DEFAULT_KEY_TEMPLATE, HASH_MODES, KERNEL_NAMES, UPDATE_ID_SOURCE, type KernelName } from '../shared.js';

export const MODEL_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
/** Every kernel but the TypeScript baseline: measured at load, the fastest serves. */
export const DEFAULT_KERNELS: readonly KernelName[] = ['native-float32', 'native-int8', 'onnx-float32', 'onnx-int8'];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const ModelConfig = Type.Object(
  {
    name: Type.String({ pattern: MODEL_NAME_PATTERN, description: 'model name: its folder in the feed' }),
    feed: Type.Optional(Type.String({ minLength: 1, description: 'feed root of this model; default: the top-level feed' })),
    pin: Type.Optional(Type.String({ pattern: UPDATE_ID_SOURCE, description: 'serve this update id and do not follow the feed' })),
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
    foldIn: Type.Boolean({
      default: false,
      description: 'an unknown user who sends interactions (POST /recommend) gets a factor solved from them, before the fallback chain; needs the training parameters in the bundle',
    }),
    fallback: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'keys of fallbacks, tried in order when the model cannot answer' }),
    writeBehind: Type.Optional(
      Type.Object(
        {
          to: Type.String({ minLength: 1, description: 'a redis or cassandra key of fallbacks' }),
          ttlSeconds: Type.Integer({ minimum: 1, default: 7 * 24 * 3600, description: 'how long a stored list lives' }),
        },
        { additionalProperties: false, description: "store the model's answers so a later outage serves each user their last list" },
      ),
    ),
  },
  { additionalProperties: false },
);

const Breaker = Type.Object(
  {
    failures: Type.Integer({ minimum: 1, default: 5, description: 'consecutive failures that open the circuit' }),
    halfOpenAfterMs: Type.Integer({ minimum: 10, default: 5000, description: 'how long an open circuit skips the source before one probe' }),
  },
  { additionalProperties: false, default: {}, description: "the source's circuit breaker" },
);

export const FallbackSchema = Type.Object(
  {
    kind: Type.Enum(['redis', 'cassandra', 'static'], { description: 'where the precomputed lists are' }),
    timeoutMs: Type.Number({ exclusiveMinimum: 0, default: 20, description: 'per lookup, further capped by what is left of the request deadline' }),
    breaker: Breaker,
    // redis
    url: Type.Optional(Type.String({ minLength: 1, description: 'redis: redis://host:port/db' })),
    keyTemplate: Type.String({ minLength: 1, default: DEFAULT_KEY_TEMPLATE, description: 'redis: key of a cached list' }),
    connectTimeoutMs: Type.Integer({ minimum: 1, default: 1000, description: 'redis: how long a lookup waits for the first connection' }),
    // cassandra
    contactPoints: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'cassandra: host or host:port' })),
    localDataCenter: Type.String({ minLength: 1, default: 'datacenter1', description: 'cassandra' }),
    keyspace: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,47}$', default: 'recserve', description: 'cassandra' }),
    table: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,47}$', default: 'recommendations', description: 'cassandra' }),
    consistency: Type.Enum(CONSISTENCY_LEVELS, { default: 'localOne', description: 'cassandra' }),
    username: Type.Optional(Type.String({ description: 'cassandra' })),
    passwordEnv: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$', description: 'cassandra: environment variable holding the password' })),
    // static
    file: Type.Optional(Type.String({ minLength: 1, description: 'static: JSON list, or lists by variant with "*" shared' })),
  },
  { additionalProperties: false },
);

export const ExperimentSchema = Type.Object(
  {
    name: Name('experiment name'),
    salt: Type.String({ minLength: 1, description: 'hashed with the user id; a new salt reshuffles the audience' }),
    buckets: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10_000, description: 'how many buckets the hash is reduced to' }),
    hash: Type.Enum(HASH_MODES, { default: 'murmur3', description: "murmur3: MurmurHash3 x86_32 seed 0; spark: Spark SQL's hash() (docs/experiments.md)" }),
    variants: Type.Array(VariantConfig, { minItems: 1, description: 'the arms of the experiment, each owning a share of the buckets' }),
    overrides: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'userId -> variant name, winning over the hash' })),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: '0.0.0.0', description: 'address to listen on' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'port to listen on; 0 picks a free one' }),
    logLevel: Type.Enum(LOG_LEVELS, { default: 'info', description: 'least severe level logged (JSON lines on stdout)' }),
    workers: Type.Optional(Type.Integer({ minimum: 1, description: 'worker processes serving the port; default: one per two cores, at least one' })),
    feed: Type.String({ minLength: 1, default: './models', description: 'feed root: <feed>/<model>/v1/<updateId>/' }),
    models: Type.Array(ModelConfig, { minItems: 1, description: 'models to serve; the first is the default' }),
    scoring: Type.Object(
      {
        kernels: Type.Array(Type.Enum(KERNEL_NAMES), {
          minItems: 1,
          uniqueItems: true,
          default: [...DEFAULT_KERNELS],
          description:
            'the scoring kernels each model may be served by: at load, those that accept it (onnx-int8 needs an int8 bundle; native ones the built addon; native-int8 quantises a float32 model itself, exactly) are timed on it, and the fastest serves; js is the slow TypeScript baseline. Must include a float32 kernel (native-float32, onnx-float32 or js)',
        }),
        threads: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, description: 'threads per scan; default: the cores divided among the workers' })),
        verifyChecksums: Type.Boolean({ default: true, description: 'check every data file against its sha256 at load' }),
        recordDigests: Type.Boolean({ default: true, description: 'record digests verified at load, and reuse them while each file keeps its device, inode, size and mtime' }),
        digestRecordDir: Type.Optional(Type.String({ minLength: 1, description: 'where verified digests are recorded; default: <tmp>/recserve-verified-digests' })),
        batching: Type.Boolean({ default: true, description: 'continuous batching: while a scan of a model is in flight, its new requests wait and the next scan takes them together' }),
        maxBatch: Type.Integer({ minimum: 1, maximum: 1024, default: 32, description: 'the most requests one scan takes: live ones first, then batch lines, each oldest first' }),
        backgroundScans: Type.Integer({
          minimum: 0,
          maximum: 16,
          default: 3,
          description:
            'scans that take the batch lines, in even shares, beside the main scan (which takes them only beside live requests): one thread each, in the idle scheduling class, so they take the CPU live requests leave; 0 leaves batch lines to the main scan',
        }),
        gatherMs: Type.Number({
          minimum: 0,
          maximum: 50,
          default: 0.3,
          description: 'after a batch of B, how long (ms, at most) a scan starting from idle waits for about B requests; 0 starts at once',
        }),
        rescoreCandidates: Type.Integer({
          minimum: 0,
          maximum: 100000,
          default: 100,
          description: 'onnx-int8 (int8 bundles): candidates beyond the n asked for that its int8 pass hands to the exact float32 re-score',
        }),
      },
      { additionalProperties: false, default: {}, description: 'how each request is scored (docs/scoring.md)' },
    ),
    reload: Type.Object(
      {
        pollIntervalMs: Type.Integer({ minimum: 0, default: 1000, description: 'how often each feed is polled for new updates; 0 stops following' }),
        watchEvents: Type.Boolean({ default: true, description: 'also react to file events at once' }),
        sparkCacheDir: Type.Optional(Type.String({ minLength: 1, description: 'where raw Spark saves found in a feed are imported; default: <tmp>/recserve-spark-cache' })),
      },
      { additionalProperties: false, default: {}, description: 'following the feed (docs/feed-and-bundle-format.md)' },
    ),
    shutdown: Type.Object(
      {
        drainDelayMs: Type.Integer({ minimum: 0, default: 0, description: 'after SIGTERM, how long /readyz answers 503 before the listener closes (let load balancers notice)' }),
        graceMs: Type.Integer({ minimum: 0, default: 10_000, description: 'how long requests in flight may take to finish before the process exits anyway' }),
      },
      { additionalProperties: false, default: {}, description: 'what SIGTERM does (docs/operations.md)' },
    ),
    deadlineMs: Type.Number({ exclusiveMinimum: 0, default: 50, description: 'per-request budget; the model is skipped when it would not answer in time' }),
    fallbacks: Type.Record(Type.String({ pattern: MODEL_NAME_PATTERN }), FallbackSchema, { default: {}, description: 'sources of precomputed results, named for variants to use' }),
    recommenders: Type.Optional(Type.Record(Type.String({ pattern: MODEL_NAME_PATTERN }), RecommenderConfig, { description: 'default: one als recommender per model, named after it' })),
    experiments: Type.Optional(Type.Array(ExperimentSchema, { minItems: 1, description: 'default: one experiment "default" serving the first model' })),
    defaultExperiment: Type.Optional(Type.String({ description: 'default: the first experiment' })),
    allowForcedVariant: Type.Boolean({ default: false, description: 'honour the x-recserve-variant request header (QA only)' }),
    exposureLog: Type.Optional(
      Type.Object(
        {
          destination: Type.String({ minLength: 1, description: '"stdout" or a file path (appended; folders created)' }),
          sampleRate: Type.Number({ minimum: 0, maximum: 1, default: 1, description: 'share of users logged, chosen by a hash of the user id' }),
          flushIntervalMs: Type.Integer({ minimum: 10, maximum: 1000, default: 500, description: 'buffered lines are written at least this often: a crash loses at most this much' }),
          rotate: Type.Object(
            {
              size: Type.Optional(Type.String({ pattern: '^[1-9][0-9]*[BKMG]$', description: 'rotate when the file reaches this size, e.g. "100M"' })),
              interval: Type.Optional(Type.String({ pattern: '^[1-9][0-9]*[mhd]$', description: 'rotate at each such boundary, e.g. "1d" or "6h"' })),
              maxFiles: Type.Optional(Type.Integer({ minimum: 1, description: 'rotated files kept, oldest removed first' })),
            },
            { additionalProperties: false, default: {}, description: 'rotation of a file destination' },
          ),
        },
        { additionalProperties: false, description: 'one JSON line per served assignment (docs/exposure-log.md)' },
      ),
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type RecommenderConfig = Static<typeof RecommenderConfig>;
export type ExperimentConfig = Static<typeof ExperimentSchema>;
export type FallbackConfig = Static<typeof FallbackSchema>;

/** A config after defaults that depend on other fields are filled in: every optional section is present. */
export type ResolvedConfig = Omit<Config, 'recommenders' | 'experiments' | 'defaultExperiment' | 'workers'> & {
  recommenders: Record<string, RecommenderConfig>;
  experiments: ExperimentConfig[];
  defaultExperiment: string;
  workers: number;
  /** Read from the environment only, never from a file: the admin token, and each fallback's password by name. */
  secrets: { adminToken?: string; passwords: Record<string, string> };
};
