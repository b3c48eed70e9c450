import { readFileSync } from 'node:fs';
import cassandra from 'cassandra-driver';

/** Contact points of a Cassandra the developer runs, when set; otherwise the integration suite starts one. */
export const ENV_CONTACT_POINTS = process.env.CASSANDRA_CONTACT_POINTS?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
export const ENV_DC = process.env.CASSANDRA_LOCAL_DC ?? 'datacenter1';
export const TEST_KEYSPACE = 'recserve_test';

/** Creates the test keyspace (one replica) and the table from src/fallback/cassandra.cql. */
export async function createTestSchema(contactPoints: string[], localDataCenter: string): Promise<cassandra.Client> {
  const client = new cassandra.Client({ contactPoints, localDataCenter });
  await client.execute(`CREATE KEYSPACE IF NOT EXISTS ${TEST_KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
  const cql = readFileSync(new URL('../../src/fallback/cassandra.cql', import.meta.url), 'utf8');
  const table = /CREATE TABLE[\s\S]*?;/.exec(cql)![0].replace('recserve.recommendations', `${TEST_KEYSPACE}.recommendations`);
  await client.execute(table);
  await client.execute(`TRUNCATE ${TEST_KEYSPACE}.recommendations`);
  return client;
}
