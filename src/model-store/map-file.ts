import { readFileSync } from 'node:fs';
import { loadNative, type NativeAddon } from '../native-addon.js';

/**
 * A bundle file's bytes, for typed views over them. Mapped read-only by the addon (native/map_file.c): the
 * pages stay the OS page cache's, shared by every worker that maps the file, and only the pages read are
 * ever loaded. Where the addon is not built, read into memory instead: each process holds a copy.
 */
export function mapFile(file: string, native: Pick<NativeAddon, 'mapFile'> | null = loadNative()): Buffer {
  return native ? native.mapFile(file) : aligned(readFileSync(file));
}

/**
 * The bytes at an offset that typed views of any element size accept: as they are when already aligned
 * (Node aligns the slices of its shared pool that small reads come from, though it does not promise to),
 * copied to a buffer of their own otherwise.
 */
export function aligned(bytes: Buffer): Buffer {
  if (bytes.byteOffset % 8 === 0) return bytes;
  const own = new Uint8Array(bytes.length);
  own.set(bytes);
  return Buffer.from(own.buffer);
}
