import { readManifestJson } from './manifest.js';
import path from 'node:path';
import type { ResolvedConfig } from '../config/schema.js';
import { listUpdates } from './feed.js';
import { prefetchDigests } from './sha256-files.js';
import type { ModelSource } from './store.js';
import type { VerifiedDigests } from './verified-digests.js';

/** The models a configuration serves, as the model store takes them. */
export function modelSources(config: Readonly<ResolvedConfig>): ModelSource[] {
  return config.models.map((m) => ({ name: m.name, feedRoot: m.feed ?? config.feed, pin: m.pin }));
}

/**
 * Starts hashing the data files of the update each model loads first (its pin, or else its newest
 * complete update) unless a verified digest of it is recorded, so that a server which imports its HTTP
 * stack meanwhile finds the checksums done:
 * on a 1M x 64 bundle, hashing (about 300 ms) is the longest part of the load. Best effort: anything
 * unexpected is left to the load, which reports it. Resolves once the hashing has started.
 */
export async function prefetchFirstDigests(
  sources: ModelSource[],
  options: Parameters<typeof prefetchDigests>[1] = {},
  verified?: VerifiedDigests,
): Promise<ReturnType<typeof prefetchDigests>> {
  const files = await Promise.all(
    sources.map(async (source) => {
      try {
        const complete = (await listUpdates(source.feedRoot, source.name)).filter((u) => u.complete);
        const update = source.pin ? complete.find((u) => u.id === source.pin) : complete.at(-1);
        if (!update) return [];
        const manifest = (await readManifestJson(update.dir)) as { files?: Record<string, { path?: unknown; sha256?: unknown } | null> };
        return Object.values(manifest.files ?? {})
          .filter((f) => typeof f?.path === 'string' && path.basename(f.path) === f.path)
          .map((f) => ({ file: path.join(update.dir, f!.path as string), sha256: f!.sha256 }))
          .filter(({ file, sha256 }) => !verified || verified.lookup(file) !== sha256)
          .map(({ file }) => file);
      } catch {
        return []; // left to the load
      }
    }),
  );
  return prefetchDigests(files.flat(), options);
}
