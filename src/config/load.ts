import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Value } from 'typebox/value';
import YAML from 'yaml';
import { RecserveError } from '../errors.js';
import { firstViolation } from '../shared.js';
import { ConfigSchema, FallbackSchema, type Config, type ResolvedConfig } from './schema.js';
import { checkReferences, withDerivedDefaults } from './references.js';

/** Environment variables that override the file, with the field each one sets. */
export const ENV_OVERRIDES = {
  RECSERVE_HOST: 'host',
  RECSERVE_PORT: 'port',
  RECSERVE_LOG_LEVEL: 'logLevel',
  RECSERVE_WORKERS: 'workers',
} as const;
const NUMERIC_FIELDS = new Set<string>(['port', 'workers']);

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
export function resolveConfig(raw: Record<string, unknown>, source: string, env: NodeJS.ProcessEnv = process.env): Readonly<ResolvedConfig> {
  const merged: Record<string, unknown> = structuredClone(raw);
  for (const [variable, field] of Object.entries(ENV_OVERRIDES)) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    merged[field] = NUMERIC_FIELDS.has(field) && /^\d+$/.test(value) ? Number(value) : value;
  }
  const withDefaults = Value.Default(ConfigSchema, merged) as Record<string, unknown>;
  // TypeBox does not fill defaults inside Record values: fill each fallback source's itself.
  const fallbacks = withDefaults.fallbacks;
  if (fallbacks && typeof fallbacks === 'object' && !Array.isArray(fallbacks)) {
    for (const [name, value] of Object.entries(fallbacks)) (fallbacks as Record<string, unknown>)[name] = Value.Default(FallbackSchema, value);
  }
  const violation = firstViolation(ConfigSchema, withDefaults);
  if (violation) {
    const { field, detail } = violation;
    const envHint = Object.entries(ENV_OVERRIDES).find(([, f]) => f === field);
    invalid(envHint && env[envHint[0]] ? `${source} (or ${envHint[0]})` : source, `field ${field} ${detail}`);
  }
  const config = withDerivedDefaults(withDefaults as Config, secretsFrom(withDefaults as Config, source, env), availableParallelism());
  const problem = checkReferences(config);
  if (problem) invalid(source, problem);
  return deepFreeze(config);
}

/** The secrets the environment holds for this config; a password variable a fallback names must be set. */
function secretsFrom(config: Config, source: string, env: NodeJS.ProcessEnv): ResolvedConfig['secrets'] {
  const passwords: Record<string, string> = {};
  for (const [name, fallback] of Object.entries(config.fallbacks ?? {})) {
    if (!fallback.passwordEnv) continue;
    const value = env[fallback.passwordEnv];
    if (value === undefined) invalid(source, `field fallbacks.${name}.passwordEnv: environment variable ${fallback.passwordEnv} is not set`);
    passwords[name] = value;
  }
  return { adminToken: env.RECSERVE_ADMIN_TOKEN || undefined, passwords };
}

/** The settings of the config file at `file` as written (relative paths made absolute), not yet validated. */
export function readConfigSettings(file: string): Record<string, unknown> {
  const raw = readConfigFile(file);
  resolvePaths(raw, path.dirname(file));
  return raw;
}

/** Loads the config file at `file`, applies environment overrides, validates and freezes it. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Readonly<ResolvedConfig> {
  return resolveConfig(readConfigSettings(file), file, env);
}

/** Relative paths in a config file mean relative to that file, not to wherever the process started. */
function resolvePaths(raw: Record<string, unknown>, dir: string): void {
  const resolve = (holder: unknown, key: string) => {
    if (holder && typeof holder === 'object' && typeof (holder as Record<string, unknown>)[key] === 'string') {
      const value = (holder as Record<string, string>)[key]!;
      if (!(key === 'destination' && value === 'stdout')) (holder as Record<string, string>)[key] = path.resolve(dir, value);
    }
  };
  resolve(raw, 'feed');
  if (Array.isArray(raw.models)) raw.models.forEach((m) => resolve(m, 'feed'));
  for (const section of [raw.recommenders, raw.fallbacks]) {
    if (section && typeof section === 'object') Object.values(section).forEach((r) => resolve(r, 'file'));
  }
  resolve(raw.exposureLog, 'destination');
  resolve(raw.reload, 'sparkCacheDir');
  resolve(raw.scoring, 'digestRecordDir');
}
