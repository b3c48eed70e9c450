import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisSource, redisKey, DEFAULT_KEY_TEMPLATE } from '../../src/fallback/redis-source.js';
import { silentLogger } from '../helpers/fixtures.js';
import { useRedis } from '../helpers/redis.js';
import { fallbackContract } from './contract.js';

const redis = useRedis();
let corrupt = 0;
let prefix = 0;

// Each seed gets its own key prefix, so tests never see each other's keys.
let template = DEFAULT_KEY_TEMPLATE;
function source(): RedisSource {
  return new RedisSource({ name: 'redis', url: redis.url, keyTemplate: template, connectTimeoutMs: 1000, commandTimeoutMs: 1000, logger: silentLogger, onCorrupt: () => corrupt++ });
}
async function ready(s: RedisSource): Promise<RedisSource> {
  if (s.client.status !== 'ready') await new Promise((r) => s.client.once('ready', r));
  return s;
}

fallbackContract({
  name: 'redis (real redis-server)',
  perUser: true,
  async seed(lists) {
    template = `test${prefix++}:{variant}:{userId}`;
    const s = await ready(source());
    if (lists.length > 0) await s.write(lists);
    return s;
  },
  writeRaw: async (variant, userId, raw) => void (await redis.admin.set(redisKey(template, variant, userId), raw)),
  corruptCount: () => corrupt,
});

describe('redis source', () => {
  it('writes with a TTL when asked, under the configured key template', async () => {
    template = 'ttl:{variant}:{userId}';
    const s = await ready(source());
    await s.write([{ variant: 'v', userId: '42', items: [{ itemId: '1', score: 1 }] }], 60);
    const ttl = await redis.admin.ttl('ttl:v:42');
    assert.ok(ttl > 0 && ttl <= 60, `ttl ${ttl}`);
    assert.equal(await redis.admin.get('ttl:v:42'), '[{"itemId":"1","score":1}]');
    await s.close();
  });
});
