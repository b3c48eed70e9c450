import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { tmpdir } from 'node:os';
import { bundleWriter } from '../model-store/bundle-writer.js';
import { SUCCESS_MARKER } from '../model-store/feed.js';
import type { RawUpdateImporter } from '../model-store/load-update.js';
import { writeUpdate } from '../model-store/publish.js';
import { alsMetadataFile } from './als-save.js';
import { readAlsModel } from './import.js';
import { readTrainingParams } from './training-params.js';

/** A feed update holding a Spark ALSModel save rather than a bundle. */
export function isSparkSave(dir: string): boolean {
  return !existsSync(path.join(dir, 'manifest.json')) && alsMetadataFile(dir) !== null;
}

/**
 * The bundle folder for a Spark save found in a feed: imported once (the same code as
 * `recserve import-spark`) into `<cacheDir>/<model>/<updateId>/`, and reused from there afterwards.
 */
export async function importedBundleDir(saveDir: string, cacheDir: string, model: string, updateId: string): Promise<string> {
  const parent = path.join(cacheDir, model);
  const dir = path.join(parent, updateId);
  if (existsSync(path.join(dir, SUCCESS_MARKER))) return dir;
  const { metadata, model: factors } = await readAlsModel(saveDir);
  const { sparkVersion, uid, userCol, itemCol } = metadata;
  const training = await readTrainingParams(saveDir);
  // A half-written cache folder from an interrupted import is replaced.
  await fs.rm(dir, { recursive: true, force: true });
  await writeUpdate(parent, bundleWriter(factors, { spark: { sparkVersion, uid, userCol, itemCol }, training, source: path.resolve(saveDir) }), async () => updateId);
  return dir;
}

/** What the model store is given so that raw Spark saves in a feed load like bundles. */
export function sparkSaveImporter(cacheDir = path.join(tmpdir(), 'recserve-spark-cache')): RawUpdateImporter {
  return { matches: isSparkSave, bundleDir: (dir, model, version) => importedBundleDir(dir, cacheDir, model, version) };
}
