import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parquetMetadata, type FileMetaData } from 'hyparquet';
import { rowGroups } from '../parquet-groups.js';
import { RecserveError } from '../errors.js';
import { idOrder, permuteRows, type FactorTable } from '../model-store/factors.js';
import { verifyHadoopCrc, verifyPageCrcs } from './checksums.js';

/** Told the row count once every part file's footer is read, then the rows read so far. */
export interface ReadProgress {
  start(totalRows: number): void;
  rows(rowsRead: number): void;
}

interface PartFile {
  file: string;
  metadata: FileMetaData;
  buffer: ArrayBuffer;
}

function corrupt(file: string, err: unknown): RecserveError {
  return new RecserveError('corrupt_parquet', `${file}: truncated or corrupt parquet (${(err as Error).message})`, { cause: err });
}

/** Spark writes `required int32 id` and `features: list<float>`; anything else is not a factor file. */
function checkSchema(file: string, metadata: FileMetaData): void {
  const byName = new Map(metadata.schema.map((s) => [s.name, s]));
  const id = byName.get('id');
  const element = metadata.schema.at(-1);
  if (id?.type !== 'INT32' || !byName.has('features') || element?.type !== 'FLOAT') {
    throw new RecserveError('bad_schema', `${file}: expected columns id: int32 and features: array<float>, found ${metadata.schema.slice(1).map((s) => `${s.name}${s.type ? `: ${s.type}` : ''}`).join(', ')}`);
  }
}

/** A part file read whole, checked against its Hadoop `.crc` and its page CRCs (when Spark wrote them) before it is parsed. */
async function openPart(file: string): Promise<PartFile> {
  const bytes = await fs.readFile(file);
  await verifyHadoopCrc(file, bytes);
  // A file read whole owns its ArrayBuffer (only small reads share Node's pool): use it without a copy.
  const owns = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const buffer = owns ? (bytes.buffer as ArrayBuffer) : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(buffer);
  } catch (err) {
    throw corrupt(file, err);
  }
  checkSchema(file, metadata);
  verifyPageCrcs(file, bytes, metadata);
  return { file, metadata, buffer };
}

/**
 * Reads one factor folder (every part file) into a table sorted by id. Rejects, naming the file,
 * a checksum mismatch, null or wrong-length features, non-finite values, duplicate ids and unreadable parquet.
 */
export async function readFactorTable(files: string[], rank: number, onProgress?: ReadProgress): Promise<FactorTable> {
  const parts: PartFile[] = [];
  for (const file of files) parts.push(await openPart(file));
  const total = parts.reduce((sum, p) => sum + Number(p.metadata.num_rows), 0);
  onProgress?.start(total);
  const ids = new Int32Array(total);
  const factors = new Float32Array(total * rank);
  // Which part file each row came from, to name both files of a duplicate id.
  const fileOf = new Uint32Array(total);
  let row = 0;
  for (const [fileIndex, part] of parts.entries()) {
    try {
      for await (const { rows } of rowGroups(part.buffer, part.metadata, ['id', 'features'])) {
        for (const r of rows) {
          ids[row] = r.id as number;
          fileOf[row] = fileIndex;
          copyFeatures(part.file, r.id as number, r.features, rank, factors, row * rank);
          row++;
        }
        onProgress?.rows(row);
      }
    } catch (err) {
      // The rows' own problems are named already; anything else is the parquet failing to decode.
      if (err instanceof RecserveError) throw err;
      throw corrupt(part.file, err);
    }
  }
  const order = idOrder(ids);
  for (let i = 1; i < order.length; i++) {
    const a = order[i - 1]!;
    const b = order[i]!;
    if (ids[a] === ids[b]) {
      const where = fileOf[a] === fileOf[b] ? path.basename(parts[fileOf[a]!]!.file) + ' (twice)' : `${path.basename(parts[fileOf[a]!]!.file)} and ${path.basename(parts[fileOf[b]!]!.file)}`;
      throw new RecserveError('duplicate_id', `${path.dirname(parts[0]!.file)}: id ${ids[a]} appears more than once, in ${where}`);
    }
  }
  return permuteRows({ ids, factors }, order, rank);
}

function copyFeatures(file: string, id: number, features: unknown, rank: number, into: Float32Array, offset: number): void {
  if (features === null || features === undefined) {
    throw new RecserveError('bad_features', `${file}: id ${id} has null features`);
  }
  if (!Array.isArray(features) || features.length !== rank) {
    const length = Array.isArray(features) ? features.length : typeof features;
    throw new RecserveError('bad_features', `${file}: id ${id} has ${length} features, the model's rank is ${rank}`);
  }
  for (let k = 0; k < rank; k++) {
    const v = features[k] as number;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new RecserveError('bad_features', `${file}: id ${id} has a non-finite feature at position ${k}`);
    }
    into[offset + k] = v;
  }
}
