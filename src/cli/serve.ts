import { readConfigSettings, resolveConfig } from '../config/load.js';
import type { ResolvedConfig } from '../config/schema.js';
import cluster from 'node:cluster';
import { joinPrimary, runPrimary } from '../cluster.js';
import { createLogger } from '../logger.js';

export interface ServeOptions {
  config?: string;
  feed?: string;
  model?: string[];
  port?: string;
  host?: string;
}

/** Config from a file (`--config` or RECSERVE_CONFIG), or from flags alone for the common case. */
export function configFromFlags(options: ServeOptions, env: NodeJS.ProcessEnv = process.env): Readonly<ResolvedConfig> {
  const file = options.config ?? env.RECSERVE_CONFIG;
  const flags: Record<string, unknown> = {};
  if (options.host !== undefined) flags.host = options.host;
  if (options.port !== undefined) flags.port = /^\d+$/.test(options.port) ? Number(options.port) : options.port;
  if (file) {
    const overrides = { ...flags, ...(options.feed ? { feed: options.feed } : {}) };
    const source = Object.keys(overrides).length > 0 ? `${file} with command-line flags` : file;
    return resolveConfig({ ...readConfigSettings(file), ...overrides }, source, env);
  }
  return resolveConfig(
    { ...flags, feed: options.feed ?? './models', models: (options.model ?? []).map((name) => ({ name })) },
    'command line (--feed/--model)',
    env,
  );
}

export async function serve(options: ServeOptions): Promise<void> {
  const config = configFromFlags(options);
  const { workers } = config;
  if (workers > 1 && cluster.isPrimary) {
    // Workers read the same flags and environment, so they resolve the same config (and worker count).
    const logger = createLogger(config.logLevel);
    const { exposureLog } = config;
    const exposures = exposureLog && (await import('../recommender/exposure-log.js')).exposureFileSink(exposureLog.destination, exposureLog.rotate);
    process.exit(await runPrimary(workers, logger, { host: config.host, port: config.port, drainDelayMs: config.shutdown.drainDelayMs, exposures }));
  }
  // Checksums first: their hashing threads then run while the serving stack is imported.
  if (config.scoring.verifyChecksums) {
    const { modelSources, prefetchFirstDigests } = await import('../model-store/first-digests.js');
    const { verifiedDigestsOf } = await import('../model-store/verified-digests.js');
    await prefetchFirstDigests(modelSources(config), {}, verifiedDigestsOf(config));
  }
  // Imported here: the cluster primary never serves, so it never loads the serving stack.
  const { startServer } = await import('../server.js');
  // In a cluster the primary holds the listening socket and hands connections over.
  const server = await startServer(config, { listen: cluster.isPrimary });
  const primary = cluster.isWorker ? joinPrimary((socket) => server.accept(socket), server.loaded) : undefined;
  const stop = async (signal: string) => {
    const { drainDelayMs, graceMs } = config.shutdown;
    server.app.log.info({ signal, drainDelayMs, graceMs }, 'shutting down: /readyz now answers 503, every answer closes its connection');
    server.lifecycle.draining = true;
    // Alone, this process stops accepting after the drain delay; in a cluster the primary does, then says so.
    await (primary ? primary.stopped : new Promise((resolve) => setTimeout(resolve, drainDelayMs)));
    // Whatever hangs past the grace period is not worth a hung pod: exit anyway.
    setTimeout(() => {
      server.app.log.error({ graceMs }, 'requests still in flight after the grace period; exiting');
      process.exit(1);
    }, graceMs + 5_000).unref();
    const drained = await server.stop();
    if (!drained) server.app.log.error({ graceMs }, 'connections still open after the grace period; closed them');
    server.app.log.info('stopped');
    process.exit(drained ? 0 : 1);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
