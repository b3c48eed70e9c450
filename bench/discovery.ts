import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { listUpdates } from '../src/model-store/feed.js';
import { loadBundle } from '../src/model-store/bundle-loader.js';
import { BENCH_FEED } from './feed.js';
import type { HttpResult } from './http.js';
import { wrk } from './wrk.js';

export const WRK_FOLDIN = path.resolve('bench/wrk-foldin.lua');

/** Up to 10,000 item ids of a bench model, evenly spread, one per line. */
export async function itemIdsFile(model: string): Promise<string> {
  const update = (await listUpdates(BENCH_FEED, model)).filter((u) => u.complete).at(-1)!;
  const snapshot = await loadBundle(model, update.id, update.dir);
  const count = Math.min(10_000, snapshot.numItems);
  const file = path.resolve('.bench', `${model}-items.txt`);
  writeFileSync(file, Array.from({ length: count }, (_, i) => snapshot.itemIds[Math.floor((i * snapshot.numItems) / count)]).join('\n') + '\n');
  return file;
}

export interface BatchResult {
  batches: number;
  usersPerSec: number;
  medianMs: number;
}

/** POST /recommend/batch of `size` random users, one batch after another for `seconds`: users answered per second. */
export async function batchThroughput(url: string, users: readonly string[], size: number, seconds: number): Promise<BatchResult> {
  const times: number[] = [];
  const started = performance.now();
  let answered = 0;
  while (performance.now() - started < seconds * 1000) {
    const userIds = Array.from({ length: size }, () => users[Math.floor(Math.random() * users.length)]!);
    const t0 = performance.now();
    const res = await fetch(`${url}/recommend/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userIds, n: 10 }) });
    const lines = (await res.text()).trimEnd().split('\n');
    if (res.status !== 200 || lines.length !== size) throw new Error(`batch answered ${res.status} with ${lines.length} lines`);
    times.push(performance.now() - t0);
    answered += size;
  }
  const elapsed = (performance.now() - started) / 1000;
  return { batches: times.length, usersPerSec: answered / elapsed, medianMs: times.sort((a, b) => a - b)[Math.floor(times.length / 2)]! };
}

/** wrk at 8 connections on one route: recommendations, fold-in, or (`pathPrefix` /similar/) similar items. */
export function routeLoad(label: string, url: string, script: string, idsFile: string, seconds: number, pathPrefix?: string): Promise<HttpResult> {
  return wrk(label, url, script, { IDS_FILE: idsFile, ...(pathPrefix ? { PATH_PREFIX: pathPrefix } : {}) }, 8, seconds);
}
