import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RecserveError } from '../errors.js';
import { loadBundle, type LoadOptions } from './bundle-loader.js';
import { loadOnnxBundle, ONNX_BUNDLE_FORMAT } from './onnx-bundle.js';
import type { LoadedModel } from './snapshot.js';

/** Loads a feed update of either kind, chosen by its manifest's `format`. */
export async function loadUpdate(name: string, version: string, dir: string, options: LoadOptions = {}): Promise<LoadedModel> {
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
