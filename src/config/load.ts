import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Value } from 'typebox/value';
import YAML from 'yaml';
import { RecserveError } from '../errors.js';
import { ConfigSchema, type Config } from './schema.js';

/** Environment variables that override the file, with the field each one sets. */
const ENV_OVERRIDES = {
  RECSERVE_HOST: 'host',
  RECSERVE_PORT: 'port',
  RECSERVE_LOG_LEVEL: 'logLevel',
} as const;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function invalid(source: string, message: string): never {
  throw new RecserveError('config_invalid', `${source}: ${message}`);
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    invalid(file, `cannot read (${(err as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = path.extname(file) === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    invalid(file, `not valid ${path.extname(file) === '.json' ? 'JSON' : 'YAML'} (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) invalid(file, 'must hold an object');
  return parsed as Record<string, unknown>;
}

/**
 * Validates raw settings (file contents merged with overrides) once and freezes them.
 * `source` names where they came from in every error, with the offending field.
 */
export function resolveConfig(raw: Record<string, unknown>, source: string, env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const merged: Record<string, unknown> = structuredClone(raw);
  for (const [variable, field] of Object.entries(ENV_OVERRIDES)) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    merged[field] = field === 'port' ? (/^\d+$/.test(value) ? Number(value) : value) : value;
  }
  const withDefaults = Value.Default(ConfigSchema, merged) as Record<string, unknown>;
  const first = Value.Errors(ConfigSchema, withDefaults)[0];
  if (first) {
    const field = first.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(top level)';
    // An unknown key fails the `additionalProperties: false` sub-schema, reported as "schema is false".
    const detail = first.keyword === 'boolean' ? 'is not a known setting' : first.message;
    const envHint = Object.entries(ENV_OVERRIDES).find(([, f]) => f === field);
    invalid(envHint && env[envHint[0]] ? `${source} (or ${envHint[0]})` : source, `field ${field} ${detail}`);
  }
  const config = withDefaults as Config;
  const names = config.models.map((m) => m.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) invalid(source, `field models: model ${dup} is listed twice`);
  return deepFreeze(config);
}

/** Loads the config file at `file`, applies environment overrides, validates and freezes it. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const raw = readConfigFile(file);
  // A relative feed path means relative to the config file, not to wherever the process started.
  if (typeof raw.feed === 'string') raw.feed = path.resolve(path.dirname(file), raw.feed);
  return resolveConfig(raw, file, env);
}
