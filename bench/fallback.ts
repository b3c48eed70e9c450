import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadRecs } from '../src/fallback/load-recs.js';
import { RedisSource } from '../src/fallback/redis-source.js';
import { createLogger } from '../src/logger.js';
import { startRedis } from '../test/helpers/redis.js';
import { writeSparkRecsParquet } from '../test/helpers/spark-recs.js';
import { BENCH_FEED } from './feed.js';
import { loadTest, startServer, type HttpResult } from './http.js';

const LOADED_USERS = 100_000;

/**
 * load-recs throughput into a local redis-server, then HTTP answers from the model (known users)
 * beside answers from Redis (users the model does not know), on the same server.
 */
export async function benchFallback(knownUsers: number, seconds: number): Promise<{ usersPerSec: number; http: HttpResult[] }> {
  const redis = await startRedis();
  try {
    const dir = path.resolve('.bench');
    const parquet = path.join(dir, 'recs-100k.parquet');
    writeSparkRecsParquet(
      parquet,
      Array.from({ length: LOADED_USERS }, (_, i) => ({ user: knownUsers + i, recommendations: Array.from({ length: 10 }, (_, k) => ({ item: (i * 31 + k * 7) % 100_000, rating: 5 - k * 0.25 })) })),
    );
    const target = new RedisSource({ name: 'redis', url: redis.url, keyTemplate: 'recserve:recs:{variant}:{userId}', connectTimeoutMs: 1000, commandTimeoutMs: 10_000, logger: createLogger('warn') });
    await new Promise((r) => target.client.once('ready', r));
    const report = await loadRecs(parquet, target, 'als', undefined);
    await target.close();

    const config = path.join(dir, 'fallback-bench.yaml');
    writeFileSync(
      config,
      [
        `feed: ${BENCH_FEED}`,
        'models: [{name: items100k}]',
        `fallbacks: {cache: {kind: redis, url: "${redis.url}", timeoutMs: 50}}`,
        'experiments: [{name: default, salt: s, variants: [{name: als, weight: 1, recommender: items100k, fallback: [cache]}]}]',
      ].join('\n'),
    );
    const server = await startServer(['--config', config]);
    try {
      await loadTest('warm-up', server.url, knownUsers, 8, 2);
      const http = [
        await loadTest('model (known users)', server.url, knownUsers, 8, seconds),
        await loadTest('redis (users the model does not know)', server.url, LOADED_USERS, 8, seconds, knownUsers),
      ];
      return { usersPerSec: report.users / report.seconds, http };
    } finally {
      server.stop();
    }
  } finally {
    await redis.stop();
  }
}
