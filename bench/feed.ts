import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { publishBundle } from '../src/model-store/bundle-writer.js';
import { listUpdates } from '../src/model-store/feed.js';
import { synthModel } from '../src/model-store/synth.js';

export const BENCH_FEED = path.resolve('.bench', 'feed');

export interface Shape {
  name: string;
  users: number;
  items: number;
  rank: number;
}

/** The newest update of a synthetic benchmark model, written once and reused by later runs. */
export async function benchModel(shape: Shape): Promise<{ id: string; dir: string }> {
  const existing = (await listUpdates(BENCH_FEED, shape.name)).filter((u) => u.complete).at(-1);
  if (existing && existsSync(path.join(existing.dir, 'manifest.json'))) {
    const m = JSON.parse(readFileSync(path.join(existing.dir, 'manifest.json'), 'utf8'));
    if (m.numUsers === shape.users && m.numItems === shape.items && m.rank === shape.rank) return existing;
  }
  const model = synthModel({ users: shape.users, items: shape.items, rank: shape.rank, seed: 7 });
  const update = await publishBundle(model, { feedRoot: BENCH_FEED, name: shape.name, spark: null, source: 'bench' });
  return { id: update.updateId, dir: update.dir };
}
