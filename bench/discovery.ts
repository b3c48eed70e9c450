import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { listUpdates } from '../src/model-store/feed.js';
import { loadBundle } from '../src/model-store/bundle-loader.js';
import { BENCH_FEED } from './feed.js';
import type { HttpResult } from './http.js';
import { wrk } from './wrk.js';
import { WRK_IDS } from './peer.js';

/** POSTs with bodies built up front: POST_KIND foldin (POST /recommend) or batch (POST /recommend/batch). */
export const WRK_POST = path.resolve('bench/wrk-post.lua');

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
  usersPerSec: number;
  medianMs: number;
  /** The VM's steal over the run (bench/steal.ts), where measured. */
  steal: number | undefined;
}

/**
 * POST /recommend/batch of `size` random users, one batch at a time (wrk at 1 connection) for `seconds`:
 * users answered per second. The same client as the single requests it is compared with, so that the
 * ratio is the server's, not the client's (a Node fetch loop spent 5.5 us a user reading the lines).
 * One batch is checked first: 200, and a line per user.
 */
export async function batchThroughput(url: string, idsFile: string, size: number, seconds: number): Promise<BatchResult> {
  const userIds = readFileSync(idsFile, 'utf8').trim().split('\n').slice(0, size);
  const res = await fetch(`${url}/recommend/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userIds, n: 10 }) });
  const lines = (await res.text()).trimEnd().split('\n');
  if (res.status !== 200 || lines.length !== size) throw new Error(`batch answered ${res.status} with ${lines.length} lines`);
  const r = await wrk('batch', url, WRK_POST, { IDS_FILE: idsFile, POST_KIND: 'batch', BATCH: String(size) }, 1, seconds);
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`batches answered ${r.non2xx} non-2xx and ${r.errors} socket errors`);
  return { usersPerSec: r.requestsPerSec * size, medianMs: r.p50, steal: r.steal };
}

/** wrk at 8 connections on one route, its script's settings in `env`: recommendations, fold-in or similar items. */
export function routeLoad(label: string, url: string, script: string, env: NodeJS.ProcessEnv, seconds: number): Promise<HttpResult> {
  return wrk(label, url, script, env, 8, seconds);
}

/** One round of the discovery section: each route at 8 connections, then batches, back to back. */
export interface DiscoveryRound {
  get: HttpResult;
  foldIn: HttpResult;
  similar: HttpResult;
  batch: BatchResult;
}

/**
 * `rounds` rounds of every route for `seconds` each, one after another, so that each ratio is taken between
 * runs a few seconds apart: on a shared VM the speed moves by half within minutes (the steal column shows
 * by how much), and a ratio of runs a minute apart measures the VM as much as the server.
 */
export async function discoveryRounds(url: string, users: string, items: string, rounds: number, seconds: number): Promise<DiscoveryRound[]> {
  const get = { IDS_FILE: users };
  const foldIn = { IDS_FILE: items, POST_KIND: 'foldin' };
  const similar = { IDS_FILE: items, PATH_PREFIX: '/similar/' };
  for (const [script, env] of [[WRK_IDS, get], [WRK_POST, foldIn], [WRK_IDS, similar]] as const) await routeLoad('warm-up', url, script, env, 2);
  const done: DiscoveryRound[] = [];
  for (let r = 0; r < rounds; r++) {
    done.push({
      get: await routeLoad('GET /recommend/:userId', url, WRK_IDS, get, seconds),
      foldIn: await routeLoad('POST /recommend (fold-in)', url, WRK_POST, foldIn, seconds),
      similar: await routeLoad('GET /similar/:itemId', url, WRK_IDS, similar, seconds),
      batch: await batchThroughput(url, users, 1000, seconds),
    });
  }
  return done;
}

