import path from 'node:path';
import { publishBundle } from '../model-store/bundle-writer.js';
import type { Manifest } from '../model-store/manifest.js';
import type { PublishedUpdate } from '../model-store/publish.js';
import type { ItemEncoding } from '../model-store/quantize.js';
import type { FactorModel } from '../model-store/factors.js';
import { listPartFiles, readAlsMetadata, type AlsMetadata } from './als-save.js';
import { readFactorTable, type ReadProgress } from './factor-reader.js';
import { readTrainingParams, type TrainingOverrides } from './training-params.js';

/** Progress of each factor folder in turn. */
export type ImportProgress = (folder: 'userFactors' | 'itemFactors') => ReadProgress;

/** Reads a whole Spark ALSModel save into sorted factor tables. */
export async function readAlsModel(saveDir: string, progress?: ImportProgress): Promise<{ metadata: AlsMetadata; model: FactorModel }> {
  const metadata = await readAlsMetadata(saveDir);
  const userFiles = await listPartFiles(saveDir, 'userFactors');
  const itemFiles = await listPartFiles(saveDir, 'itemFactors');
  const users = await readFactorTable(userFiles, metadata.rank, progress?.('userFactors'));
  const items = await readFactorTable(itemFiles, metadata.rank, progress?.('itemFactors'));
  return { metadata, model: { rank: metadata.rank, users, items } };
}

/** `recserve import-spark`: a Spark save in, a new feed update out. */
export async function importSparkSave(
  saveDir: string,
  feedRoot: string,
  name: string,
  progress?: ImportProgress,
  itemEncoding: ItemEncoding = 'float32',
  training: { estimatorDir?: string; overrides?: TrainingOverrides } = {},
): Promise<PublishedUpdate<Manifest>> {
  const { metadata, model } = await readAlsModel(saveDir, progress);
  const { sparkVersion, uid, userCol, itemCol } = metadata;
  const params = await readTrainingParams(saveDir, training);
  return publishBundle(model, { feedRoot, name, spark: { sparkVersion, uid, userCol, itemCol }, training: params, source: path.resolve(saveDir), itemEncoding });
}
