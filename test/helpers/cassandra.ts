import { readFileSync } from 'node:fs';
import cassandra from 'cassandra-driver';

export const CASSANDRA_CONTACT_POINTS = process.env.CASSANDRA_CONTACT_POINTS?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
export const CASSANDRA_DC = process.env.CASSANDRA_LOCAL_DC ?? 'datacenter1';
export const TEST_KEYSPACE = 'recserve_test';

/** Why the Cassandra suites are skipped, printed by the test runner; false when they run. */
export const cassandraSkip: string | false =
  CASSANDRA_CONTACT_POINTS.length === 0 && 'CASSANDRA_CONTACT_POINTS is not set: no Cassandra server here, so the Cassandra store contract is skipped';

/** Creates the test keyspace (one replica) and the table from src/fallback/cassandra.cql. */
export async function createTestSchema(): Promise<cassandra.Client> {
  const client = new cassandra.Client({ contactPoints: CASSANDRA_CONTACT_POINTS, localDataCenter: CASSANDRA_DC });
  await client.execute(`CREATE KEYSPACE IF NOT EXISTS ${TEST_KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
  const cql = readFileSync(new URL('../../src/fallback/cassandra.cql', import.meta.url), 'utf8');
  const table = /CREATE TABLE[\s\S]*?;/.exec(cql)![0].replace('recserve.recommendations', `${TEST_KEYSPACE}.recommendations`);
  await client.execute(table);
  await client.execute(`TRUNCATE ${TEST_KEYSPACE}.recommendations`);
  return client;
}
