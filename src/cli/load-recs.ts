import { Value } from 'typebox/value';
import { loadConfigFile } from '../config/load.js';
import { FallbackSchema, type FallbackConfig } from '../config/schema.js';
import { RecserveError } from '../errors.js';
import { firstViolation } from '../shared.js';
import { createSource } from '../fallback/build.js';
import { loadRecs } from '../fallback/load-recs.js';
import { isWritable, type WritableSource } from '../fallback/source.js';
import { createLogger } from '../logger.js';
import { progressBar, type Progress } from './progress.js';

export interface LoadRecsOptions {
  input: string;
  to: string;
  variant: string;
  ttl?: string;
  config?: string;
  url?: string;
  keyTemplate?: string;
  contactPoints?: string;
  localDc?: string;
  keyspace?: string;
  table?: string;
  consistency?: string;
}

function invalid(message: string): never {
  throw new RecserveError('invalid_request', `load-recs: ${message}`);
}

/** Where a store lives, for messages: a Redis URL without its password, or Cassandra's contact points. */
function storeAddress(config: FallbackConfig): string {
  if (config.kind === 'cassandra') return `cassandra at ${(config.contactPoints ?? []).join(', ')}`;
  if (config.kind !== 'redis' || !config.url) return config.kind;
  try {
    const url = new URL(config.url);
    if (url.password) url.password = '***';
    return `redis at ${url.toString()}`;
  } catch {
    return 'redis';
  }
}

/** The store to load into: a fallback of the config (by name, or by kind when only one has it), or one built from flags. */
async function targetOf(options: LoadRecsOptions): Promise<{ source: WritableSource; address: string }> {
  const logger = createLogger('warn');
  let name = options.to;
  let config: FallbackConfig;
  let password: string | undefined;
  if (options.config) {
    const loaded = loadConfigFile(options.config);
    const fallbacks = loaded.fallbacks;
    const byKind = Object.entries(fallbacks).filter(([, f]) => f.kind === options.to);
    const found = fallbacks[options.to] ? [options.to, fallbacks[options.to]!] : byKind.length === 1 ? byKind[0]! : invalid(`--to ${options.to} names no fallback of ${options.config} (has ${Object.keys(fallbacks).join(', ') || 'none'})`);
    [name, config] = found as [string, FallbackConfig];
    password = loaded.secrets.passwords[name];
  } else {
    if (options.to !== 'redis' && options.to !== 'cassandra') invalid('--to must be redis or cassandra (or a fallback name with --config)');
    const raw = Value.Default(FallbackSchema, {
      kind: options.to,
      url: options.to === 'redis' ? (options.url ?? 'redis://127.0.0.1:6379') : undefined,
      ...(options.keyTemplate ? { keyTemplate: options.keyTemplate } : {}),
      contactPoints: options.contactPoints?.split(',').map((s) => s.trim()),
      ...(options.localDc ? { localDataCenter: options.localDc } : {}),
      ...(options.keyspace ? { keyspace: options.keyspace } : {}),
      ...(options.table ? { table: options.table } : {}),
      ...(options.consistency ? { consistency: options.consistency } : {}),
      // Bulk writes wait for the store, not for a request deadline.
      timeoutMs: 10_000,
    });
    const violation = firstViolation(FallbackSchema, raw, 'options');
    if (violation) invalid(`${violation.field} ${violation.detail}`);
    config = raw as FallbackConfig;
    if (config.kind === 'cassandra' && !config.contactPoints) invalid('--to cassandra needs --contact-points');
  }
  const source = await createSource(name, { ...config, timeoutMs: Math.max(config.timeoutMs, 10_000) }, logger, {}, password);
  if (!isWritable(source)) invalid(`${name} is a ${source.kind} source and cannot be loaded`);
  return { source, address: storeAddress(config) };
}

/** `recserve load-recs`: Spark's recommendForAllUsers output into Redis or Cassandra. */
export async function loadRecsCommand(options: LoadRecsOptions): Promise<void> {
  const ttl = options.ttl === undefined ? undefined : /^\d+$/.test(options.ttl) && Number(options.ttl) > 0 ? Number(options.ttl) : invalid('--ttl must be a positive number of seconds');
  const { source: target, address } = await targetOf(options);
  let bar: Progress | undefined;
  try {
    const report = await loadRecs(options.input, target, options.variant, ttl, {
      start: (total, unit) => {
        bar = progressBar('load-recs', unit);
        bar.start(total);
      },
      advance: (done) => bar?.rows(done),
    }).catch((err: unknown) => {
      // The input's own problems are RecserveErrors already; anything else came from the store's client.
      if (err instanceof RecserveError) throw err;
      // Drivers nest their causes' stacks in the message (cassandra-driver's NoHostAvailableError): the first line says it.
      throw new RecserveError('store_unavailable', `cannot write to ${address}: ${String((err as Error).message).split('\n')[0]}`);
    });
    bar?.stop();
    console.log(
      `loaded ${report.users} users into ${target.name} (${target.kind}) for variant ${options.variant} in ${report.seconds.toFixed(2)} s: ` +
        `${Math.round(report.users / Math.max(report.seconds, 1e-9))} users/s; columns ${report.userCol} / ${report.itemCol}; ${report.badRows} bad rows`,
    );
    for (const example of report.examples) console.log(`  bad row: ${example}`);
    if (report.badRows > 0) process.exitCode = 2;
  } finally {
    bar?.stop();
    await target.close();
  }
}
