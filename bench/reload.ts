import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { modelFeedDir, nextUpdateId } from '../src/model-store/feed.js';
import { benchModel, type Shape } from './feed.js';
import { loadTest, startServer, type HttpResult } from './http.js';

const RELOAD_FEED = path.resolve('.bench', 'reload-feed');

/** Copies a bundle into the reload feed as a new update; `_SUCCESS` last, timed from then. */
async function publishCopy(source: string, name: string): Promise<{ id: string; successAt: number }> {
  const id = await nextUpdateId(RELOAD_FEED, name);
  const target = path.join(modelFeedDir(RELOAD_FEED, name), id);
  mkdirSync(target, { recursive: true });
  for (const file of readdirSync(source).filter((f) => f !== '_SUCCESS')) copyFileSync(path.join(source, file), path.join(target, file));
  writeFileSync(path.join(target, '_SUCCESS'), '');
  return { id, successAt: performance.now() };
}

async function servedVersion(url: string): Promise<string | null> {
  const body = (await (await fetch(`${url}/models`)).json()) as { models: { version: string | null }[] };
  return body.models[0]!.version;
}

export interface ReloadResult {
  shape: Shape;
  /** ms from _SUCCESS to the new version answering, per trial. */
  successToServing: number[];
}

/** Time from `_SUCCESS` to serving, for each shape, with the server following the feed (events + 1 s poll). */
export async function benchReload(shapes: Shape[], trials: number): Promise<ReloadResult[]> {
  const results: ReloadResult[] = [];
  for (const shape of shapes) {
    rmSync(RELOAD_FEED, { recursive: true, force: true });
    const bundle = await benchModel(shape);
    await publishCopy(bundle.dir, shape.name);
    const server = await startServer(['--feed', RELOAD_FEED, '--model', shape.name]);
    try {
      const times: number[] = [];
      for (let i = 0; i < trials; i++) {
        const { id, successAt } = await publishCopy(bundle.dir, shape.name);
        while ((await servedVersion(server.url)) !== id) await new Promise((r) => setTimeout(r, 5));
        times.push(performance.now() - successAt);
      }
      results.push({ shape, successToServing: times });
    } finally {
      server.stop();
    }
  }
  rmSync(RELOAD_FEED, { recursive: true, force: true });
  return results;
}

/** Request latency at 8 connections with no swap, then with a new update swapped in every 2 s. */
export async function benchSwapLatency(shape: Shape, seconds: number): Promise<{ steady: HttpResult; swapping: HttpResult; swaps: number }> {
  rmSync(RELOAD_FEED, { recursive: true, force: true });
  const bundle = await benchModel(shape);
  await publishCopy(bundle.dir, shape.name);
  const server = await startServer(['--feed', RELOAD_FEED, '--model', shape.name]);
  try {
    await loadTest('warm-up', server.url, shape.users, 8, 2);
    const steady = await loadTest('no swap', server.url, shape.users, 8, seconds);
    let swaps = 0;
    const publisher = setInterval(() => {
      swaps++;
      void publishCopy(bundle.dir, shape.name);
    }, 2000);
    const swapping = await loadTest(`a swap every 2 s`, server.url, shape.users, 8, seconds);
    clearInterval(publisher);
    return { steady, swapping, swaps };
  } finally {
    server.stop();
    rmSync(RELOAD_FEED, { recursive: true, force: true });
  }
}
