import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { modelFeedDir, nextUpdateId, SUCCESS_MARKER } from './feed.js';

export interface FileEntry {
  path: string;
  bytes: number;
  sha256: string;
}

export interface PublishedUpdate<M> {
  updateId: string;
  dir: string;
  manifest: M;
}

/** Writes one data file of an update and describes it for the manifest. */
export async function writeDataFile(dir: string, name: string, bytes: Uint8Array): Promise<FileEntry> {
  await fs.writeFile(path.join(dir, name), bytes);
  return { path: name, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * Publishes a new feed update: `write` fills a hidden temporary folder and returns the manifest,
 * which is written last inside it; the folder is renamed to the next update id and `_SUCCESS`
 * is written after the rename, so a reader never sees half an update.
 */
export async function publishUpdate<M>(feedRoot: string, name: string, write: (dir: string) => Promise<M>): Promise<PublishedUpdate<M>> {
  const feedDir = modelFeedDir(feedRoot, name);
  return writeUpdate(feedDir, write, () => nextUpdateId(feedRoot, name));
}

/**
 * Writes an update folder under `parentDir` atomically: a hidden temporary folder, renamed to the id
 * `chooseId` gives (asked again if another writer took it first), `_SUCCESS` last.
 */
export async function writeUpdate<M>(parentDir: string, write: (dir: string) => Promise<M>, chooseId: () => Promise<string>): Promise<PublishedUpdate<M>> {
  await fs.mkdir(parentDir, { recursive: true });
  const tmp = path.join(parentDir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(tmp);
  try {
    const manifest = await write(tmp);
    await fs.writeFile(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    const updateId = await renameIntoPlace(tmp, parentDir, chooseId);
    const dir = path.join(parentDir, updateId);
    await fs.writeFile(path.join(dir, SUCCESS_MARKER), '');
    return { updateId, dir, manifest };
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Renames the finished folder to the next update id, retrying if another writer took that id first. */
async function renameIntoPlace(tmp: string, parentDir: string, chooseId: () => Promise<string>): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const updateId = await chooseId();
    try {
      await fs.rename(tmp, path.join(parentDir, updateId));
      return updateId;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (attempt >= 5 || (code !== 'ENOTEMPTY' && code !== 'EEXIST')) throw err;
    }
  }
}
