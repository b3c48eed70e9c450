import { timeout, TimeoutStrategy, type TimeoutPolicy } from 'cockatiel';
import { Redis, ReplyError } from 'ioredis';
import type { Logger } from 'pino';
import type { ScoredItemId } from '../shared.js';
import { corruptEntry, encodeItems, itemsOrMiss } from './payload.js';
import type { CachedList, WritableSource } from './source.js';

export { DEFAULT_KEY_TEMPLATE } from '../shared.js';

export interface RedisSourceOptions {
  name: string;
  url: string;
  keyTemplate: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  logger: Logger;
  onCorrupt?: (source: string) => void;
}

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
  readonly inMemory = false;
  readonly name: string;
  readonly client: Redis;
  private readonly firstReady: Promise<void>;
  /** How long a command waits for the first connection. */
  private readonly connectWait: TimeoutPolicy;

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
    this.firstReady = new Promise((resolve) => this.client.once('ready', () => resolve()));
    this.firstReady.catch(() => undefined);
    this.connectWait = timeout(options.connectTimeoutMs, TimeoutStrategy.Aggressive);
  }

  /**
   * Until the first connection is up, commands wait for it (the caller's timeout bounds the wait);
   * after that they fail at once while disconnected, so an outage costs nothing but a miss.
   */
  private async connected(): Promise<void> {
    if (this.client.status === 'ready') return;
    try {
      await this.connectWait.execute(() => this.firstReady);
    } catch {
      throw new Error(`redis ${this.name} is not connected (${this.client.status})`);
    }
  }

  async lookup(variant: string, userId: string, n: number): Promise<ScoredItemId[] | null> {
    await this.connected();
    const context = { source: this.name, variant, userId, logger: this.options.logger, onCorrupt: this.options.onCorrupt };
    let raw: Buffer | null;
    try {
      raw = await this.client.getBuffer(redisKey(this.options.keyTemplate, variant, userId));
    } catch (err) {
      // A key of another type (a hash, a list) is that user's corrupt entry, not a failing store.
      if (err instanceof ReplyError && (err as Error).message.startsWith('WRONGTYPE')) return corruptEntry(context, 'the key holds another Redis type than a string');
      throw err;
    }
    return itemsOrMiss(raw, n, context);
  }

  async write(lists: readonly CachedList[], ttlSeconds?: number): Promise<void> {
    await this.connected();
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
