import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/schema.js';
import { createSource, guard, type FallbackHooks } from '../fallback/build.js';
import type { GuardedSource } from '../fallback/guarded.js';
import type { FallbackSource } from '../fallback/source.js';

export interface Fallbacks {
  /** Each configured store by name: write-behind writes to these. */
  sources: Map<string, FallbackSource>;
  /** The same stores behind their timeout and breaker: lookups go through these. */
  guarded: Map<string, GuardedSource>;
  close(): Promise<void>;
}

/** Every configured fallback store, connecting in the background. */
export async function buildFallbacks(config: Readonly<ResolvedConfig>, logger: Logger, hooks: FallbackHooks): Promise<Fallbacks> {
  const entries = Object.entries(config.fallbacks);
  const sources = new Map(await Promise.all(entries.map(async ([name, f]) => [name, await createSource(name, f, logger, hooks, config.secrets.passwords[name])] as const)));
  const guarded = new Map(entries.map(([name, f]) => [name, guard(sources.get(name)!, f, logger, hooks)]));
  return {
    sources,
    guarded,
    close: async () => void (await Promise.all([...sources.values()].map((s) => s.close()))),
  };
}
