import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RecserveError } from '../errors.js';
import { dateOfUpdateId, listUpdates, modelFeedDir } from './feed.js';

export interface PruneResult {
  kept: string[];
  deleted: string[];
  /** Incomplete folders younger than the grace period, left for their writers to finish. */
  leftAlone: string[];
}

/**
 * Deletes complete updates older than the newest `keep`, and incomplete or temporary folders older
 * than `graceMs` (abandoned writes). Folders younger than that may still be being written: left alone.
 */
export async function pruneFeed(feedRoot: string, name: string, keep: number, graceMs: number, now = Date.now()): Promise<PruneResult> {
  const dir = modelFeedDir(feedRoot, name);
  if (!(await fs.stat(dir).then((s) => s.isDirectory(), () => false))) {
    const models = await fs.readdir(feedRoot).catch(() => null);
    if (models === null) throw new RecserveError('feed_invalid', `feed root ${feedRoot} does not exist`);
    throw new RecserveError('feed_invalid', `no model ${JSON.stringify(name)} in ${feedRoot} (it has ${models.filter((m) => !m.startsWith('.')).join(', ') || 'none'})`);
  }
  const updates = await listUpdates(feedRoot, name);
  const complete = updates.filter((u) => u.complete);
  const kept = complete.slice(Math.max(0, complete.length - keep)).map((u) => u.id);
  const result: PruneResult = { kept, deleted: [], leftAlone: [] };
  for (const u of complete.slice(0, Math.max(0, complete.length - keep))) {
    await fs.rm(u.dir, { recursive: true, force: true });
    result.deleted.push(u.id);
  }
  const incomplete = [
    ...updates.filter((u) => !u.complete).map((u) => u.id),
    ...(await fs.readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith('.tmp-')),
  ];
  for (const entry of incomplete) {
    const full = path.join(dir, entry);
    const modified = await fs.stat(full).then((s) => s.mtimeMs, () => now);
    // An update's id is its creation second; a temporary folder only has its mtime.
    const born = entry.startsWith('.tmp-') ? modified : Math.max(dateOfUpdateId(entry).getTime(), modified);
    if (now - born < graceMs) {
      result.leftAlone.push(entry);
    } else {
      await fs.rm(full, { recursive: true, force: true });
      result.deleted.push(entry);
    }
  }
  return result;
}
