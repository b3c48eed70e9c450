import cassandra from 'cassandra-driver';
import type { Logger } from 'pino';
import type { ScoredItemId } from '../shared.js';
import { encodeItems, itemsOrMiss } from './payload.js';
import type { CachedList, WritableSource } from './source.js';
import type { ConsistencyName } from '../shared.js';


export interface CassandraSourceOptions {
  name: string;
  contactPoints: string[];
  localDataCenter: string;
  keyspace: string;
  table: string;
  consistency: ConsistencyName;
  username?: string;
  password?: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  logger: Logger;
  onCorrupt?: (source: string) => void;
}

/**
 * Cached lists in Cassandra (table in src/fallback/cassandra.cql), read and written with prepared
 * statements. The driver connects on first use and again after failures, so the service starts
 * and answers while Cassandra is unreachable.
 */
export class CassandraSource implements WritableSource {
  readonly kind = 'cassandra';
  readonly inMemory = false;
  readonly name: string;
  readonly client: cassandra.Client;
  private readonly select: string;
  private readonly insert: string;
  private connected = false;

  constructor(private readonly options: CassandraSourceOptions) {
    this.name = options.name;
    const table = `${options.keyspace}.${options.table}`;
    this.select = `SELECT items FROM ${table} WHERE variant = ? AND user_id = ?`;
    this.insert = `INSERT INTO ${table} (variant, user_id, items, updated_at) VALUES (?, ?, ?, ?) USING TTL ?`;
    this.client = new cassandra.Client({
      contactPoints: options.contactPoints,
      localDataCenter: options.localDataCenter,
      credentials: options.username !== undefined ? { username: options.username, password: options.password ?? '' } : undefined,
      socketOptions: { connectTimeout: options.connectTimeoutMs, readTimeout: options.readTimeoutMs },
      queryOptions: { consistency: cassandra.types.consistencies[options.consistency], prepare: true },
    });
    this.client.on('hostUp', () => (this.connected = true));
    this.client.on('hostDown', () => (this.connected = false));
  }

  async lookup(variant: string, userId: string, n: number): Promise<ScoredItemId[] | null> {
    const result = await this.client.execute(this.select, [variant, userId]);
    this.connected = true;
    const raw = result.first()?.get('items') as string | null | undefined;
    return itemsOrMiss(raw, n, { source: this.name, variant, userId, logger: this.options.logger, onCorrupt: this.options.onCorrupt });
  }

  async write(lists: readonly CachedList[], ttlSeconds = 0): Promise<void> {
    const now = new Date();
    const params = lists.map(({ variant, userId, items }) => [variant, userId, encodeItems(items), now, ttlSeconds]);
    const result = await cassandra.concurrent.executeConcurrent(this.client, this.insert, params, { concurrencyLevel: 64, raiseOnFirstError: true });
    if (result.errors.length > 0) throw result.errors[0];
  }

  state(): string {
    return this.connected ? 'ready' : 'disconnected';
  }

  async close(): Promise<void> {
    await this.client.shutdown();
  }
}
