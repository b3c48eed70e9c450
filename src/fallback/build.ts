import type { Logger } from 'pino';
import type { FallbackConfig } from '../config/schema.js';
import { GuardedSource, type LookupOutcome } from './guarded.js';
import type { FallbackSource } from './source.js';
import { StaticSource } from './static-source.js';

export interface FallbackHooks {
  onCorrupt?: (source: string) => void;
  onOutcome?: (source: FallbackSource, outcome: LookupOutcome) => void;
}

/**
 * One source from its config; connections open in the background, so a dead store does not stop start-up.
 * Each driver is imported only when a source of its kind is configured: workers start faster without them.
 */
/** `password`: the store's password, read from the environment by the config module. */
export async function createSource(name: string, config: FallbackConfig, logger: Logger, hooks: FallbackHooks = {}, password?: string): Promise<FallbackSource> {
  switch (config.kind) {
    case 'redis': {
      const { RedisSource } = await import('./redis-source.js');
      return new RedisSource({ name, url: config.url!, keyTemplate: config.keyTemplate, connectTimeoutMs: config.connectTimeoutMs, commandTimeoutMs: Math.max(1, Math.ceil(config.timeoutMs)), logger, onCorrupt: hooks.onCorrupt });
    }
    case 'cassandra': {
      const { CassandraSource } = await import('./cassandra-source.js');
      return new CassandraSource({
        name,
        contactPoints: config.contactPoints!,
        localDataCenter: config.localDataCenter,
        keyspace: config.keyspace,
        table: config.table,
        consistency: config.consistency,
        username: config.username,
        password,
        connectTimeoutMs: config.connectTimeoutMs,
        readTimeoutMs: Math.max(1, Math.ceil(config.timeoutMs)),
        logger,
        onCorrupt: hooks.onCorrupt,
      });
    }
    case 'static':
      return new StaticSource(name, config.file!);
  }
}

export function guard(source: FallbackSource, config: FallbackConfig, logger: Logger, hooks: FallbackHooks = {}): GuardedSource {
  return new GuardedSource(source, { timeoutMs: config.timeoutMs, failures: config.breaker.failures, halfOpenAfterMs: config.breaker.halfOpenAfterMs, logger, onOutcome: hooks.onOutcome });
}
