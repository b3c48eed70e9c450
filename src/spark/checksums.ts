// The integrity data Spark leaves beside and inside its files: Hadoop's `.crc` side files (a CRC32 of
// every 512-byte chunk, written by the local and HDFS file systems) and parquet's page CRCs (parquet-mr
// 1.12 and later). A save copied with a flipped bit imports with changed factors unless these are checked.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { FileMetaData } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { RecserveError } from '../errors.js';

const CRC_MAGIC = 'crc\0';

function unreadable(file: string, what: string): RecserveError {
  return new RecserveError('corrupt_parquet', `${file}: truncated or corrupt parquet (${what})`);
}

function mismatch(file: string, what: string): RecserveError {
  return new RecserveError('checksum_mismatch', `${file}: ${what}; the file changed after Spark wrote it (a bad copy or a bad disk)`);
}

/** Hadoop's side file of `file`: `.<name>.crc` in the same folder. */
export function hadoopCrcFile(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.crc`);
}

/**
 * Checks `bytes` (the whole of `file`) against its Hadoop `.crc` side file, when there is one.
 * Returns whether one was there.
 */
export async function verifyHadoopCrc(file: string, bytes: Uint8Array): Promise<boolean> {
  const side = await fs.readFile(hadoopCrcFile(file)).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (side === null) return false;
  if (side.length < 8 || side.subarray(0, 4).toString('latin1') !== CRC_MAGIC) throw mismatch(file, `${path.basename(hadoopCrcFile(file))} is not a Hadoop checksum file`);
  const chunk = side.readInt32BE(4);
  const stored = (side.length - 8) / 4;
  if (chunk <= 0 || !Number.isInteger(stored)) throw mismatch(file, `${path.basename(hadoopCrcFile(file))} is malformed`);
  if (stored !== Math.ceil(bytes.length / chunk)) throw mismatch(file, `its length (${bytes.length} bytes) is not the one its Hadoop checksum file covers`);
  for (let i = 0; i < stored; i++) {
    const start = i * chunk;
    if (crc32(bytes.subarray(start, start + chunk)) !== side.readUInt32BE(8 + 4 * i)) {
      throw mismatch(file, `bytes ${start}..${Math.min(start + chunk, bytes.length) - 1} do not match its Hadoop checksum (${path.basename(hadoopCrcFile(file))})`);
    }
  }
  return true;
}

/**
 * Checks every page of every column chunk that carries a CRC (parquet's PageHeader.crc: a CRC32 of the
 * page's bytes as stored). Returns how many pages had one.
 */
export function verifyPageCrcs(file: string, bytes: Uint8Array, metadata: FileMetaData): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let checked = 0;
  for (const group of metadata.row_groups) {
    for (const column of group.columns) {
      const meta = column.meta_data;
      if (!meta) continue;
      const start = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
      const end = start + Number(meta.total_compressed_size);
      const reader = { view, offset: start };
      while (reader.offset < end) {
        let header;
        try {
          header = parquetHeader(reader);
        } catch (err) {
          throw unreadable(file, `unreadable page header at byte ${reader.offset}: ${(err as Error).message}`);
        }
        const body = reader.offset;
        reader.offset += header.compressed_page_size;
        if (header.compressed_page_size < 0 || reader.offset > end) throw unreadable(file, `a page at byte ${body} runs past its column chunk`);
        if (header.crc === undefined) continue;
        checked++;
        // Stored as a signed 32-bit integer.
        if ((crc32(bytes.subarray(body, reader.offset)) | 0) !== header.crc) throw mismatch(file, `the page at byte ${body} does not match its CRC`);
      }
    }
  }
  return checked;
}
