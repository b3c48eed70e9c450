import { resolveConfig } from '../../src/config/load.js';
import { DEFAULT_KERNELS } from '../../src/config/schema.js';
import type { KernelName } from '../../src/scorers/index.js';
import { createServing } from '../../src/wiring/index.js';
import { silentLogger } from './fixtures.js';

/** The serving stack as the server wires it, without listening: models of one feed, the kernels it may choose from, plus any other settings. */
export function servingStack(feedRoot: string, models: string[], kernels: readonly KernelName[] = DEFAULT_KERNELS, settings: Record<string, unknown> = {}, adminToken?: string) {
  const config = resolveConfig({ feed: feedRoot, models: models.map((name) => ({ name })), scoring: { kernels, threads: 1 }, ...settings }, 'test config', {});
  return createServing(config, silentLogger, adminToken);
}
