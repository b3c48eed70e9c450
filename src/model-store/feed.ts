import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Each feed update is a folder named by its UTC creation second, e.g. 20261121T225959Z; the name sorts by time. */
export { UPDATE_ID_PATTERN } from '../shared.js';
import { UPDATE_ID_PATTERN } from '../shared.js';
export const SUCCESS_MARKER = '_SUCCESS';
export const FEED_LAYOUT_VERSION = 'v1';

export function updateIdFor(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export function dateOfUpdateId(id: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(id);
  if (!m) throw new Error(`not an update id: ${id}`);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

export function modelFeedDir(feedRoot: string, model: string): string {
  return path.join(feedRoot, model, FEED_LAYOUT_VERSION);
}

export interface FeedUpdate {
  id: string;
  dir: string;
  complete: boolean;
}

/** Every update folder of a model, oldest first; `complete` once `_SUCCESS` exists. */
export async function listUpdates(feedRoot: string, model: string): Promise<FeedUpdate[]> {
  const dir = modelFeedDir(feedRoot, model);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const ids = names.filter((n) => UPDATE_ID_PATTERN.test(n)).sort();
  return Promise.all(
    ids.map(async (id) => {
      const updateDir = path.join(dir, id);
      const complete = await fs
        .stat(path.join(updateDir, SUCCESS_MARKER))
        .then((s) => s.isFile())
        .catch(() => false);
      return { id, dir: updateDir, complete };
    }),
  );
}

/**
 * The id for a new update: now, or one second after the newest existing folder when that is
 * not older, so that ids only go up even when updates are written within the same second.
 */
export async function nextUpdateId(feedRoot: string, model: string, now = new Date()): Promise<string> {
  const newest = (await listUpdates(feedRoot, model)).at(-1);
  const candidate = updateIdFor(now);
  if (!newest || newest.id < candidate) return candidate;
  return updateIdFor(new Date(dateOfUpdateId(newest.id).getTime() + 1000));
}
