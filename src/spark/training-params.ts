import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RecserveError } from '../errors.js';
import type { TrainingParams } from '../model-store/manifest.js';
import { alsMetadataFile } from './als-save.js';
import { verifyHadoopCrc } from './checksums.js';

export const ALS_ESTIMATOR_CLASS = 'org.apache.spark.ml.recommendation.ALS';
/** Where a save may carry the estimator that trained it: `als.write().save(modelPath + "/estimator")`. */
export const ESTIMATOR_FOLDER = 'estimator';

/** Spark's defaults for the parameters a save leaves out (ALSParams). */
const SPARK_DEFAULTS = { regParam: 0.1, implicitPrefs: false, alpha: 1.0, nonnegative: false } as const;
type Values = Omit<TrainingParams, 'source'>;
const KEYS = Object.keys(SPARK_DEFAULTS) as (keyof Values)[];

interface RawMetadata {
  class?: unknown;
  paramMap?: Record<string, unknown>;
  defaultParamMap?: Record<string, unknown>;
}

/** The value of `key` in a params map, checked: a number >= 0 or a boolean as the key needs. */
function valueOf(file: string, key: keyof Values, value: unknown): number | boolean {
  const wanted = typeof SPARK_DEFAULTS[key];
  if (typeof value !== wanted || (typeof value === 'number' && !(Number.isFinite(value) && value >= 0))) {
    throw new RecserveError('bad_training_params', `${file}: ${key} is ${JSON.stringify(value)}, expected ${wanted === 'number' ? 'a number >= 0' : 'true or false'}`);
  }
  return value as number | boolean;
}

/** The estimator's metadata line: its params, with Spark's defaults for what it leaves out. */
async function readEstimator(dir: string): Promise<TrainingParams> {
  const file = alsMetadataFile(dir);
  if (file === null) throw new RecserveError('bad_training_params', `${dir} is not a Spark ALS estimator save: metadata/part-00000 is missing`);
  const bytes = await fs.readFile(file);
  await verifyHadoopCrc(file, bytes);
  let meta: RawMetadata;
  try {
    meta = JSON.parse(bytes.toString('utf8').split('\n')[0] ?? '') as RawMetadata;
  } catch (err) {
    throw new RecserveError('bad_training_params', `${file}: not a JSON metadata line (${(err as Error).message})`);
  }
  if (meta.class !== ALS_ESTIMATOR_CLASS) throw new RecserveError('bad_training_params', `${file}: class is ${JSON.stringify(meta.class)}, expected ${ALS_ESTIMATOR_CLASS}`);
  const values = {} as Record<keyof Values, number | boolean>;
  for (const key of KEYS) {
    const given = meta.paramMap?.[key] ?? meta.defaultParamMap?.[key];
    values[key] = given === undefined ? SPARK_DEFAULTS[key] : valueOf(file, key, given);
  }
  return { ...(values as Values), source: path.resolve(dir) };
}

/** Values given on the command line, the rest at Spark's defaults. */
export type TrainingOverrides = Partial<Values>;

/**
 * The parameters Spark trained a save with, from (first found) `overrides` given on the command line,
 * the estimator save `estimatorDir`, or the save's own `estimator/` folder; null when none says (fold-in
 * then stays off for the model). An ALSModel's own metadata never holds them.
 */
export async function readTrainingParams(saveDir: string, { estimatorDir, overrides }: { estimatorDir?: string; overrides?: TrainingOverrides } = {}): Promise<TrainingParams | null> {
  if (overrides && KEYS.some((k) => overrides[k] !== undefined)) return { ...SPARK_DEFAULTS, ...overrides, source: 'import flags' };
  if (estimatorDir) return readEstimator(estimatorDir);
  const inside = path.join(saveDir, ESTIMATOR_FOLDER);
  const found = await fs.stat(inside).then((s) => s.isDirectory(), () => false);
  return found ? readEstimator(inside) : null;
}
