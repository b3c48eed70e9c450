import { after, before, describe, it } from 'node:test';
import type cassandra from 'cassandra-driver';
import { CassandraSource } from '../../src/fallback/cassandra-source.js';
import { CASSANDRA_CONTACT_POINTS, CASSANDRA_DC, cassandraSkip, createTestSchema, TEST_KEYSPACE } from '../helpers/cassandra.js';
import { silentLogger } from '../helpers/fixtures.js';
import { fallbackContract } from './contract.js';

if (cassandraSkip) {
  // Visible in the test report as a skipped test with its reason.
  describe('fallback store contract: cassandra', () => {
    it('runs against a real Cassandra when CASSANDRA_CONTACT_POINTS is set', { skip: cassandraSkip }, () => undefined);
  });
} else {
  let admin: cassandra.Client;
  let corrupt = 0;
  let run = 0;
  before(async () => {
    admin = await createTestSchema();
  });
  after(async () => {
    await admin?.shutdown();
  });
  const source = () =>
    new CassandraSource({
      name: 'cassandra',
      contactPoints: CASSANDRA_CONTACT_POINTS,
      localDataCenter: CASSANDRA_DC,
      keyspace: TEST_KEYSPACE,
      table: 'recommendations',
      consistency: 'localOne',
      connectTimeoutMs: 5000,
      readTimeoutMs: 5000,
      logger: silentLogger,
      onCorrupt: () => corrupt++,
    });
  // Each seed writes under its own variant prefix, so tests never see each other's rows.
  let variantPrefix = '';
  fallbackContract({
    name: 'cassandra (real server)',
    perUser: true,
    async seed(lists) {
      variantPrefix = `r${run++}-`;
      const s = source();
      const prefixed = lists.map((l) => ({ ...l, variant: variantPrefix + l.variant }));
      if (prefixed.length > 0) await s.write(prefixed, 3600);
      return { ...s, kind: s.kind, name: s.name, state: () => s.state(), close: () => s.close(), lookup: (variant: string, userId: string, n: number) => s.lookup(variantPrefix + variant, userId, n) };
    },
    writeRaw: async (variant, userId, raw) =>
      void (await admin.execute(`INSERT INTO ${TEST_KEYSPACE}.recommendations (variant, user_id, items) VALUES (?, ?, ?)`, [variantPrefix + variant, userId, raw], { prepare: true })),
    corruptCount: () => corrupt,
  });
}
