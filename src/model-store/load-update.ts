import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RecserveError } from '../errors.js';
import { loadBundle, type LoadOptions } from './bundle-loader.js';
import { loadOnnxBundle, ONNX_BUNDLE_FORMAT } from './onnx-bundle.js';
import type { LoadedModel } from './snapshot.js';

/**
 * Turns an update that is not a bundle (a raw Spark save) into a bundle folder. Given to the store from
 * outside (src/spark/feed-saves.ts), so the store depends on no format but its own.
 */
export interface RawUpdateImporter {
  matches(dir: string): boolean;
  bundleDir(dir: string, model: string, version: string): Promise<string>;
}

/** Loads a feed update: a bundle of either kind (by its manifest's `format`), or a raw update the importer turns into one. */
export async function loadUpdate(name: string, version: string, feedDir: string, options: LoadOptions & { rawUpdates?: RawUpdateImporter } = {}): Promise<LoadedModel> {
  const dir = options.rawUpdates?.matches(feedDir) ? await options.rawUpdates.bundleDir(feedDir, name, version) : feedDir;
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
