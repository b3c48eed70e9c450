import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BUNDLE_FILES, BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleFileRole, type Manifest } from './manifest.js';
import { firstUnsorted, type FactorModel } from './factors.js';
import { modelFeedDir, nextUpdateId, SUCCESS_MARKER } from './feed.js';

export interface PublishOptions {
  feedRoot: string;
  name: string;
  spark: Manifest['spark'];
  source: string;
}

export interface PublishedUpdate {
  updateId: string;
  dir: string;
  manifest: Manifest;
}

function bytesOf(array: Int32Array | Float32Array): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

/** Raw data files are little-endian; refuse to write anything else rather than write it wrong. */
function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian hosts are not supported');
}

async function writeDataFile(dir: string, role: BundleFileRole, data: Int32Array | Float32Array) {
  const bytes = bytesOf(data);
  await fs.writeFile(path.join(dir, BUNDLE_FILES[role]), bytes);
  return { path: BUNDLE_FILES[role], bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * Writes `model` (rows sorted by id) as a new feed update: into a hidden temporary folder first,
 * renamed into place, `_SUCCESS` last, so a reader never sees half an update.
 */
export async function publishBundle(model: FactorModel, options: PublishOptions): Promise<PublishedUpdate> {
  assertLittleEndian();
  for (const [label, table] of [['user', model.users], ['item', model.items]] as const) {
    if (firstUnsorted(table.ids) !== -1) throw new Error(`${label} ids must be sorted and unique before publishing`);
    if (table.factors.length !== table.ids.length * model.rank) throw new Error(`${label} factors do not match ids x rank`);
  }
  const feedDir = modelFeedDir(options.feedRoot, options.name);
  await fs.mkdir(feedDir, { recursive: true });
  const tmp = path.join(feedDir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(tmp);
  try {
    const files = {
      userIds: await writeDataFile(tmp, 'userIds', model.users.ids),
      itemIds: await writeDataFile(tmp, 'itemIds', model.items.ids),
      userFactors: await writeDataFile(tmp, 'userFactors', model.users.factors),
      itemFactors: await writeDataFile(tmp, 'itemFactors', model.items.factors),
    };
    const manifest: Manifest = {
      format: BUNDLE_FORMAT,
      formatVersion: BUNDLE_FORMAT_VERSION,
      rank: model.rank,
      numUsers: model.users.ids.length,
      numItems: model.items.ids.length,
      dtype: 'float32',
      idType: 'int32',
      byteOrder: 'little',
      layout: 'row-major, rows sorted by id ascending',
      spark: options.spark,
      source: options.source,
      createdAt: new Date().toISOString(),
      files,
    };
    await fs.writeFile(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    const updateId = await renameIntoPlace(tmp, options.feedRoot, options.name);
    const dir = path.join(feedDir, updateId);
    await fs.writeFile(path.join(dir, SUCCESS_MARKER), '');
    return { updateId, dir, manifest };
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Renames the finished folder to the next update id, retrying if another writer took that id first. */
async function renameIntoPlace(tmp: string, feedRoot: string, name: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const updateId = await nextUpdateId(feedRoot, name);
    try {
      await fs.rename(tmp, path.join(modelFeedDir(feedRoot, name), updateId));
      return updateId;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (attempt >= 5 || (code !== 'ENOTEMPTY' && code !== 'EEXIST')) throw err;
    }
  }
}
