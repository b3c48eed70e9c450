// Settings of the fallback stores that the config schema needs, apart from the driver modules,
// so that reading a config (as the cluster primary does) does not load ioredis or cassandra-driver.

export const DEFAULT_KEY_TEMPLATE = 'recserve:recs:{variant}:{userId}';

export const CONSISTENCY_LEVELS = ['one', 'two', 'three', 'quorum', 'all', 'localQuorum', 'eachQuorum', 'localOne'] as const;
export type ConsistencyName = (typeof CONSISTENCY_LEVELS)[number];
