// The names, limits and shapes several layers share. A leaf: it imports nothing of recserve, so config,
// stores, scorers and routes can all depend on it without depending on each other.

import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';

/** One recommended item as every layer passes it: the item id and its score. */
export interface ScoredItemId {
  itemId: string;
  score: number;
}

/** The longest user or item id accepted anywhere (path parameter, exclude list, cached payload). */
export const MAX_ID_LENGTH = 128;

/** The most interactions one fold-in request may send. */
export const MAX_INTERACTIONS = 1000;

/** A feed update's id: its creation second, UTC (`20261129T190501Z`). */
export const UPDATE_ID_SOURCE = '^\\d{8}T\\d{6}Z$';
export const UPDATE_ID_PATTERN = new RegExp(UPDATE_ID_SOURCE);

/** The scoring kernels, by config name; the float32 ones accept every ALS model. */
export const KERNEL_NAMES = ['native-float32', 'native-int8', 'onnx-float32', 'onnx-int8', 'js'] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];
export const FLOAT32_KERNELS: readonly KernelName[] = ['native-float32', 'onnx-float32', 'js'];

/** How user ids are hashed into buckets: standard MurmurHash3, or exactly Spark SQL's `hash()`. */
export const HASH_MODES = ['murmur3', 'spark'] as const;
export type HashMode = (typeof HASH_MODES)[number];

/** Where the Redis store keeps a (variant, user) list by default. */
export const DEFAULT_KEY_TEMPLATE = 'recserve:recs:{variant}:{userId}';

/** Cassandra consistency levels a store may read and write at. */
export const CONSISTENCY_LEVELS = ['one', 'two', 'three', 'quorum', 'all', 'localQuorum', 'eachQuorum', 'localOne'] as const;
export type ConsistencyName = (typeof CONSISTENCY_LEVELS)[number];

/** A schema violation's JSON pointer (`/fallbacks/cache/url`) as the field every error names (`fallbacks.cache.url`). */
export function fieldName(pointer: string, whole = '(top level)'): string {
  return pointer.replace(/^\//, '').replace(/\//g, '.') || whole;
}

/**
 * The first way `value` breaks `schema`, as every error reports it: the field, and what is wrong with it
 * (`port must be <= 65535`); null when it conforms. `whole` names the value itself.
 */
export function firstViolation(schema: TSchema, value: unknown, whole?: string): { field: string; detail: string } | null {
  const first = Value.Errors(schema, value)[0];
  if (!first) return null;
  // An unknown key fails the `additionalProperties: false` sub-schema, reported as "schema is false".
  return { field: fieldName(first.instancePath, whole), detail: first.keyword === 'boolean' ? 'is not a known setting' : first.message };
}
