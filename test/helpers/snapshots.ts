import type { ModelSnapshot } from '../../src/model-store/snapshot.js';

/** An in-memory float32 snapshot of the given factors; user ids are their rows, item ids `firstItemId` + row. */
export function snapshotOf(itemFactors: Float32Array, userFactors: Float32Array, rank: number, firstItemId = 0): ModelSnapshot {
  const numItems = itemFactors.length / rank;
  const numUsers = userFactors.length / rank;
  return Object.freeze({
    kind: 'als',
    name: 't',
    version: 'v',
    dir: '',
    rank,
    numUsers,
    numItems,
    userIds: Int32Array.from({ length: numUsers }, (_, i) => i),
    itemIds: Int32Array.from({ length: numItems }, (_, i) => firstItemId + i),
    userFactors,
    itemFactors,
    itemEncoding: 'float32',
    itemCodes: null,
    manifest: {} as ModelSnapshot['manifest'],
    itemGram: null,
    loadedAt: new Date(),
  });
}

/** A small snapshot whose factors a function gives (zero items by default). */
export function tinySnapshot({ users, items, rank, userFactor = () => 0, itemFactor = () => 0 }: {
  users: number;
  items: number;
  rank: number;
  userFactor?: (row: number, j: number) => number;
  itemFactor?: (row: number, j: number) => number;
}): ModelSnapshot {
  const fill = (rows: number, f: (row: number, j: number) => number) => Float32Array.from({ length: rows * rank }, (_, i) => f(Math.floor(i / rank), i % rank));
  return snapshotOf(fill(items, itemFactor), fill(users, userFactor), rank);
}
