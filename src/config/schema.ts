import { Type, type Static } from 'typebox';
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
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
