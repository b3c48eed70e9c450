import { promises as fs } from 'node:fs';
import path from 'node:path';
import { tmpdir } from 'node:os';
import { RecserveError } from '../errors.js';
import { importedBundleDir, isSparkSave } from './spark-cache.js';
import { loadBundle, type LoadOptions } from './bundle-loader.js';
import { loadOnnxBundle, ONNX_BUNDLE_FORMAT } from './onnx-bundle.js';
import type { LoadedModel } from './snapshot.js';

/** Loads a feed update: a bundle of either kind (by its manifest's `format`), or a raw Spark save, imported once. */
export async function loadUpdate(name: string, version: string, feedDir: string, options: LoadOptions & { sparkCacheDir?: string } = {}): Promise<LoadedModel> {
  const dir = isSparkSave(feedDir) ? await importedBundleDir(feedDir, options.sparkCacheDir ?? path.join(tmpdir(), 'recserve-spark-cache'), name, version) : feedDir;
  const text = await fs.readFile(path.join(dir, 'manifest.json'), 'utf8').catch((err: Error) => {
    throw new RecserveError('bundle_invalid', `${dir}: cannot read manifest.json (${err.message})`);
  });
  let format: unknown;
  try {
    format = (JSON.parse(text) as { format?: unknown }).format;
  } catch (err) {
    throw new RecserveError('bundle_invalid', `${path.join(dir, 'manifest.json')}: not valid JSON (${(err as Error).message})`);
  }
  if (format === ONNX_BUNDLE_FORMAT) return loadOnnxBundle(name, version, dir, text, options);
  return loadBundle(name, version, dir, options);
}
