import { loadBundle, type LoadOptions } from './bundle-loader.js';
import { readManifestJson } from './manifest.js';
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
  const manifest = await readManifestJson(dir);
  const format = typeof manifest === 'object' && manifest !== null ? (manifest as { format?: unknown }).format : undefined;
  if (format === ONNX_BUNDLE_FORMAT) return loadOnnxBundle(name, version, dir, manifest, options);
  return loadBundle(name, version, dir, options, manifest);
}
