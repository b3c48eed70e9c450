import { promises as fs, readdirSync } from 'node:fs';
import path from 'node:path';
import { RecserveError } from '../errors.js';
import { verifyHadoopCrc } from './checksums.js';

export const ALS_MODEL_CLASS = 'org.apache.spark.ml.recommendation.ALSModel';

export interface AlsMetadata {
  sparkVersion: string;
  uid: string;
  rank: number;
  userCol: string;
  itemCol: string;
}

interface RawMetadata {
  class?: unknown;
  sparkVersion?: unknown;
  uid?: unknown;
  rank?: unknown;
  paramMap?: Record<string, unknown>;
  defaultParamMap?: Record<string, unknown>;
}

/**
 * The metadata file of a save: `metadata/part-00000` up to Spark 3.5 (an RDD text file), and
 * `metadata/part-00000-<uuid>-c000.txt` from Spark 4.0 (a DataFrame text file); the first part file, as
 * Spark's own reader takes the first line of the folder. Null when there is none.
 */
export function alsMetadataFile(saveDir: string): string | null {
  const dir = path.join(saveDir, 'metadata');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  const first = names.filter((n) => /^part-\d+/.test(n)).sort()[0];
  return first === undefined ? null : path.join(dir, first);
}

/** Reads and checks the metadata line Spark's DefaultParamsWriter wrote (see alsMetadataFile). */
export async function readAlsMetadata(saveDir: string): Promise<AlsMetadata> {
  const stat = await fs.stat(saveDir).catch(() => null);
  if (!stat) throw new RecserveError('not_als_model', `${saveDir} does not exist`);
  if (!stat.isDirectory()) throw new RecserveError('not_als_model', `${saveDir} is a file, not the folder of a Spark ALSModel save`);
  const file = alsMetadataFile(saveDir);
  if (file === null) throw new RecserveError('not_als_model', `${saveDir} is not a Spark ALSModel save: ${path.join(saveDir, 'metadata', 'part-00000')} is missing`);
  const bytes = await fs.readFile(file);
  await verifyHadoopCrc(file, bytes);
  const text = bytes.toString('utf8');
  let meta: RawMetadata;
  try {
    meta = JSON.parse(text.split('\n')[0] ?? '') as RawMetadata;
  } catch (err) {
    throw new RecserveError('not_als_model', `${file}: not a JSON metadata line (${(err as Error).message})`);
  }
  if (meta.class !== ALS_MODEL_CLASS) {
    throw new RecserveError('wrong_class', `${file}: class is ${JSON.stringify(meta.class)}, expected ${ALS_MODEL_CLASS}`);
  }
  if (!Number.isInteger(meta.rank) || (meta.rank as number) < 1) {
    throw new RecserveError('not_als_model', `${file}: rank ${JSON.stringify(meta.rank)} is not a positive integer`);
  }
  const param = (key: string, fallback: string): string => {
    const v = meta.paramMap?.[key] ?? meta.defaultParamMap?.[key];
    return typeof v === 'string' ? v : fallback;
  };
  return {
    sparkVersion: String(meta.sparkVersion ?? 'unknown'),
    uid: String(meta.uid ?? 'unknown'),
    rank: meta.rank as number,
    userCol: param('userCol', 'user'),
    itemCol: param('itemCol', 'item'),
  };
}

/** The parquet part files of a factor folder, in name order; Hadoop's `.crc` and `_SUCCESS` files are skipped. */
export async function listPartFiles(saveDir: string, folder: 'userFactors' | 'itemFactors'): Promise<string[]> {
  const dir = path.join(saveDir, folder);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    throw new RecserveError('not_als_model', `${saveDir} is not a Spark ALSModel save: ${dir} is missing`);
  }
  const parts = names.filter((n) => !n.startsWith('.') && !n.startsWith('_') && n.endsWith('.parquet')).sort();
  if (parts.length === 0) {
    throw new RecserveError('not_als_model', `${dir} holds no parquet part files`);
  }
  return parts.map((n) => path.join(dir, n));
}
