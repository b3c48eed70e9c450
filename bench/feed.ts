import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { publishBundle } from '../src/model-store/bundle-writer.js';
import { listUpdates } from '../src/model-store/feed.js';
import type { Manifest } from '../src/model-store/manifest.js';
import type { ItemEncoding } from '../src/model-store/quantize.js';
import { synthModel } from '../src/model-store/synth.js';
import { importSparkSave } from '../src/spark/import.js';

export const BENCH_FEED = path.resolve('.bench', 'feed');
export const FIXTURES_DIR = process.env.RECSERVE_FIXTURES ?? path.resolve('../shared/fixtures/spark-als');
/** The real fixture whose shape (43,331 items x 15) the peer comparison also uses. */
export const MLLATEST = 'mllatest-spark2.3.0-rank15';

export interface Shape {
  name: string;
  users: number;
  items: number;
  rank: number;
  itemEncoding?: ItemEncoding;
  /** Training parameters in the manifest, so the model can fold in new users. */
  training?: Manifest['training'];
}

type Update = { id: string; dir: string };

/** The newest complete update of a bench model whose manifest passes `matches`, if any. */
async function existing(name: string, matches: (manifest: Record<string, unknown>) => boolean): Promise<Update | undefined> {
  const newest = (await listUpdates(BENCH_FEED, name)).filter((u) => u.complete).at(-1);
  if (!newest || !existsSync(path.join(newest.dir, 'manifest.json'))) return undefined;
  return matches(JSON.parse(readFileSync(path.join(newest.dir, 'manifest.json'), 'utf8'))) ? newest : undefined;
}

/** The newest update of a synthetic benchmark model, written once and reused by later runs. */
export async function benchModel(shape: Shape): Promise<Update> {
  const itemEncoding = shape.itemEncoding ?? 'float32';
  const found = await existing(shape.name, (m) => m.numUsers === shape.users && m.numItems === shape.items && m.rank === shape.rank && (m.itemEncoding ?? 'float32') === itemEncoding && Boolean(m.training) === Boolean(shape.training));
  if (found) return found;
  const model = synthModel({ users: shape.users, items: shape.items, rank: shape.rank, seed: 7 });
  const update = await publishBundle(model, { feedRoot: BENCH_FEED, name: shape.name, spark: null, training: shape.training, source: 'bench', itemEncoding });
  return { id: update.updateId, dir: update.dir };
}

/** The real mllatest fixture imported into the bench feed as `mllatest-<encoding>`, once. */
export async function benchFixtureModel(itemEncoding: ItemEncoding): Promise<Update & { name: string }> {
  const name = `mllatest-${itemEncoding}`;
  const found = await existing(name, (m) => (m.itemEncoding ?? 'float32') === itemEncoding);
  if (found) return { ...found, name };
  const update = await importSparkSave(path.join(FIXTURES_DIR, MLLATEST), BENCH_FEED, name, undefined, itemEncoding);
  return { id: update.updateId, dir: update.dir, name };
}
