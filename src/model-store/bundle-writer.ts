import { BUNDLE_FILES, BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type Manifest } from './manifest.js';
import { firstUnsorted, type FactorModel } from './factors.js';
import { publishUpdate, writeDataFile, type PublishedUpdate } from './publish.js';
import { FILE_OFFSET_FACTOR, quantizeItems, type ItemEncoding } from './quantize.js';

export interface PublishOptions {
  feedRoot: string;
  name: string;
  spark: Manifest['spark'];
  /** The training parameters, when known: they enable fold-in. */
  training?: Manifest['training'];
  source: string;
  /** int8 adds quantised item codes for a fast first pass; float32 factors are always written. */
  itemEncoding?: ItemEncoding;
}

function bytesOf(array: Int32Array | Float32Array | Int8Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** Raw data files are little-endian; refuse to write anything else rather than write it wrong. */
function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian hosts are not supported');
}

/** Writes an ALS model (rows sorted by id) as a new feed update. */
export function publishBundle(model: FactorModel, options: PublishOptions): Promise<PublishedUpdate<Manifest>> {
  return publishUpdate(options.feedRoot, options.name, bundleWriter(model, options));
}

/** Fills an update folder with a bundle and returns its manifest. */
export function bundleWriter(model: FactorModel, options: Pick<PublishOptions, 'spark' | 'training' | 'source' | 'itemEncoding'>): (dir: string) => Promise<Manifest> {
  assertLittleEndian();
  for (const [label, table] of [['user', model.users], ['item', model.items]] as const) {
    if (firstUnsorted(table.ids) !== -1) throw new Error(`${label} ids must be sorted and unique before publishing`);
    if (table.factors.length !== table.ids.length * model.rank) throw new Error(`${label} factors do not match ids x rank`);
  }
  const itemEncoding = options.itemEncoding ?? 'float32';
  return async (dir) => ({
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    rank: model.rank,
    numUsers: model.users.ids.length,
    numItems: model.items.ids.length,
    dtype: 'float32',
    itemEncoding,
    idType: 'int32',
    byteOrder: 'little',
    layout: 'row-major, rows sorted by id ascending',
    spark: options.spark,
    training: options.training ?? null,
    source: options.source,
    createdAt: new Date().toISOString(),
    files: {
      userIds: await writeDataFile(dir, BUNDLE_FILES.userIds, bytesOf(model.users.ids)),
      itemIds: await writeDataFile(dir, BUNDLE_FILES.itemIds, bytesOf(model.items.ids)),
      userFactors: await writeDataFile(dir, BUNDLE_FILES.userFactors, bytesOf(model.users.factors)),
      itemFactors: await writeDataFile(dir, BUNDLE_FILES.itemFactors, bytesOf(model.items.factors)),
      ...(itemEncoding === 'int8' ? await writeItemCodes(dir, model) : {}),
    },
  });
}

async function writeItemCodes(dir: string, model: FactorModel): Promise<Pick<Manifest['files'], 'itemCodes' | 'itemScales' | 'itemCodeOffsets'>> {
  const { codes, scales, sums } = quantizeItems(model.items.factors, model.items.ids.length, model.rank);
  return {
    itemCodes: await writeDataFile(dir, BUNDLE_FILES.itemCodes, bytesOf(codes)),
    itemScales: await writeDataFile(dir, BUNDLE_FILES.itemScales, bytesOf(scales)),
    itemCodeOffsets: await writeDataFile(dir, BUNDLE_FILES.itemCodeOffsets, bytesOf(sums.map((sum) => FILE_OFFSET_FACTOR * sum))),
  };
}
