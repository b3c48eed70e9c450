import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ScoredItemId } from '../recommender/kinds/types.js';
import { decodeItems, encodeItems, PayloadError } from './payload.js';
import type { CachedList, WritableSource } from './source.js';

export interface RedisSourceOptions {
  name: string;
  url: string;
  keyTemplate: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  logger: Logger;
  onCorrupt?: (source: string) => void;
}

export const DEFAULT_KEY_TEMPLATE = 'recserve:recs:{variant}:{userId}';

export function redisKey(template: string, variant: string, userId: string): string {
  return template.replaceAll('{variant}', variant).replaceAll('{userId}', userId);
}

/**
 * Cached lists in Redis, one string key per (variant, user) holding the JSON list. Commands fail
 * fast while disconnected (no offline queue) and ioredis reconnects in the background, so a dead
 * Redis costs a request nothing but a miss.
 */
export class RedisSource implements WritableSource {
  readonly kind = 'redis';
  readonly name: string;
  readonly client: Redis;

  constructor(private readonly options: RedisSourceOptions) {
    this.name = options.name;
    this.client = new Redis(options.url, {
      connectTimeout: options.connectTimeoutMs,
      commandTimeout: options.commandTimeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(100 * times, 2000),
      lazyConnect: false,
    });
    // Without a listener ioredis reports every failed reconnect as an unhandled error.
    this.client.on('error', (err: Error) => options.logger.debug({ source: this.name, err: err.message }, 'redis connection error'));
  }

  async lookup(variant: string, userId: string, n: number): Promise<ScoredItemId[] | null> {
    const raw = await this.client.getBuffer(redisKey(this.options.keyTemplate, variant, userId));
    if (raw === null) return null;
    try {
      return decodeItems(raw, n);
    } catch (err) {
      if (!(err instanceof PayloadError)) throw err;
      this.options.logger.warn({ source: this.name, variant, userId, err: err.message }, 'corrupt cached payload treated as a miss');
      this.options.onCorrupt?.(this.name);
      return null;
    }
  }

  async write(lists: readonly CachedList[], ttlSeconds?: number): Promise<void> {
    const pipeline = this.client.pipeline();
    for (const { variant, userId, items } of lists) {
      const key = redisKey(this.options.keyTemplate, variant, userId);
      if (ttlSeconds) pipeline.set(key, encodeItems(items), 'EX', ttlSeconds);
      else pipeline.set(key, encodeItems(items));
    }
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  state(): string {
    return this.client.status;
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
