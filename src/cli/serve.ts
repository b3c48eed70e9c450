import { loadConfigFile, resolveConfig } from '../config/load.js';
import type { ResolvedConfig } from '../config/schema.js';
import { startServer } from '../server.js';

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
    const fromFile = loadConfigFile(file, env);
    return resolveConfig({ ...fromFile, ...flags, ...(options.feed ? { feed: options.feed } : {}) }, `${file} with command-line flags`, env);
  }
  return resolveConfig(
    { ...flags, feed: options.feed ?? './models', models: (options.model ?? []).map((name) => ({ name })) },
    'command line (--feed/--model)',
    env,
  );
}

export async function serve(options: ServeOptions): Promise<void> {
  const server = await startServer(configFromFlags(options));
  const stop = async (signal: string) => {
    server.app.log.info({ signal }, 'shutting down');
    await server.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
