import { publishBundle } from '../../src/model-store/bundle-writer.js';
import type { Manifest } from '../../src/model-store/manifest.js';
import type { PublishedUpdate } from '../../src/model-store/publish.js';
import type { ItemEncoding } from '../../src/model-store/quantize.js';
import { synthModel } from '../../src/model-store/synth.js';

/** Publishes a seeded synthetic model as a new update of `name` in `feedRoot`. */
export function publishSynth(
  feedRoot: string,
  name: string,
  shape: { users?: number; items?: number; rank?: number; seed?: number; itemEncoding?: ItemEncoding; training?: Manifest['training'] } = {},
): Promise<PublishedUpdate<Manifest>> {
  const { users = 50, items = 200, rank = 8, seed = 1, itemEncoding, training } = shape;
  return publishBundle(synthModel({ users, items, rank, seed }), { feedRoot, name, spark: null, training, source: 'test', itemEncoding });
}
