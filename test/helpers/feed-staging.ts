import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { modelFeedDir, nextUpdateId } from '../../src/model-store/feed.js';
import { publishSynth } from './synth-feed.js';

/**
 * Publishes an update into a live feed the way a careful writer would, but lets the test damage it
 * first: the bundle is built in a staging feed, `damage` runs on it, it is copied into the live
 * feed without `_SUCCESS`, and `_SUCCESS` is written last (unless `complete` is false).
 */
export async function stageUpdate(feedRoot: string, name: string, options: { seed: number; damage?: (dir: string) => void; complete?: boolean; shape?: { users: number; items: number; rank: number } }): Promise<string> {
  const staging = mkdtempSync(path.join(tmpdir(), 'recserve-staging-'));
  try {
    const staged = await publishSynth(staging, name, { ...(options.shape ?? { users: 50, items: 500, rank: 8 }), seed: options.seed });
    rmSync(path.join(staged.dir, '_SUCCESS'));
    options.damage?.(staged.dir);
    const id = await nextUpdateId(feedRoot, name);
    const target = path.join(modelFeedDir(feedRoot, name), id);
    cpSync(staged.dir, target, { recursive: true });
    if (options.complete !== false) writeFileSync(path.join(target, '_SUCCESS'), '');
    return id;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Rewrites one field of a bundle's manifest. */
export function editManifest(dir: string, edit: (manifest: Record<string, unknown> & { files: Record<string, { sha256: string }> }) => void): void {
  const file = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  edit(manifest);
  writeFileSync(file, JSON.stringify(manifest));
}
