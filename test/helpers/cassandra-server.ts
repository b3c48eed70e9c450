// A real Apache Cassandra for the integration suite, started from Maven Central's artifacts
// (tools/cassandra/pom.xml: cassandra-all and its dependencies, copied by scripts/setup-integration.sh into
// tools/cassandra/target/dependency) on free ports, with Cassandra's own Java 17 options and a small heap.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './fixtures.js';
import { freePort } from './redis.js';

export const CASSANDRA_LIB = path.join(REPO_ROOT, 'tools', 'cassandra', 'target', 'dependency');

// From Cassandra's conf/jvm17-server.options: the module openings it needs on Java 17.
const JAVA17_OPTIONS = [
  '-Djdk.attach.allowAttachSelf=true',
  ...['java.base/jdk.internal.misc', 'java.base/jdk.internal.ref', 'java.base/sun.nio.ch', 'java.management.rmi/com.sun.jmx.remote.internal.rmi', 'java.rmi/sun.rmi.registry', 'java.rmi/sun.rmi.server', 'java.sql/java.sql'].flatMap((p) => ['--add-exports', `${p}=ALL-UNNAMED`]),
  ...[
    'java.base/java.lang.module', 'java.base/jdk.internal.loader', 'java.base/jdk.internal.ref', 'java.base/jdk.internal.reflect', 'java.base/jdk.internal.math', 'java.base/jdk.internal.module',
    'java.base/jdk.internal.util.jar', 'jdk.management/com.sun.management.internal', 'java.base/sun.nio.ch', 'java.base/java.io', 'java.base/java.nio', 'java.base/java.util.concurrent', 'java.base/java.util',
    'java.base/java.util.concurrent.atomic', 'java.base/java.lang', 'java.base/java.math', 'java.base/java.lang.reflect', 'java.base/java.net',
  ].flatMap((p) => ['--add-opens', `${p}=ALL-UNNAMED`]),
];

export interface TestCassandra {
  contactPoint: string;
  localDataCenter: string;
  /** Spawn to "Startup complete", in milliseconds. */
  startMs: number;
  /** Resident memory of the JVM once started, in MB. */
  rssMb: number;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb ? Number(kb) / 1024 : NaN;
}

/** Whether setup-integration.sh has fetched Cassandra's jars. */
export function cassandraInstalled(): boolean {
  return existsSync(CASSANDRA_LIB) && readdirSync(CASSANDRA_LIB).some((n) => n.startsWith('cassandra-all-'));
}

export async function startCassandra(): Promise<TestCassandra> {
  const dir = mkdtempSync(path.join(tmpdir(), 'recserve-cassandra-'));
  const [storage, native, jmx] = [await freePort(), await freePort(), await freePort()];
  for (const sub of ['data', 'commitlog', 'saved_caches', 'hints', 'cdc']) mkdirSync(path.join(dir, sub));
  const config = path.join(dir, 'cassandra.yaml');
  writeFileSync(
    config,
    [
      'cluster_name: recserve-test',
      'num_tokens: 1',
      'partitioner: org.apache.cassandra.dht.Murmur3Partitioner',
      `data_file_directories: [${path.join(dir, 'data')}]`,
      `commitlog_directory: ${path.join(dir, 'commitlog')}`,
      `saved_caches_directory: ${path.join(dir, 'saved_caches')}`,
      `hints_directory: ${path.join(dir, 'hints')}`,
      `cdc_raw_directory: ${path.join(dir, 'cdc')}`,
      'commitlog_sync: periodic',
      'commitlog_sync_period: 10000ms',
      'seed_provider:',
      '  - class_name: org.apache.cassandra.locator.SimpleSeedProvider',
      '    parameters:',
      `      - seeds: "127.0.0.1:${storage}"`,
      'listen_address: 127.0.0.1',
      'rpc_address: 127.0.0.1',
      `storage_port: ${storage}`,
      `native_transport_port: ${native}`,
      'start_native_transport: true',
      'endpoint_snitch: SimpleSnitch',
      '',
    ].join('\n'),
  );
  const started = performance.now();
  const child: ChildProcess = spawn(
    'java',
    [
      '-Xms256m', '-Xmx512m', '-Xss256k', '-XX:+UseG1GC', '-XX:+ExitOnOutOfMemoryError',
      ...JAVA17_OPTIONS,
      `-Dcassandra.config=file://${config}`, '-Dcassandra-foreground=yes', `-Dcassandra.jmx.local.port=${jmx}`, `-Dcassandra.storagedir=${dir}`,
      '-Dcassandra.skip_wait_for_gossip_to_settle=0', '-Dcassandra.ring_delay_ms=100',
      '-cp', `${CASSANDRA_LIB}/*`, 'org.apache.cassandra.service.CassandraDaemon',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      log = (log + d).slice(-20_000);
      if (log.includes('Startup complete')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`Cassandra exited with ${code} before it started:\n${log.slice(-3000)}`)));
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 180_000);
  await ready.finally(() => clearTimeout(timeout));
  const startMs = performance.now() - started;
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };
  return {
    contactPoint: `127.0.0.1:${native}`,
    localDataCenter: 'datacenter1',
    startMs,
    rssMb: rssMb(child.pid!),
    kill: () => end('SIGKILL'),
    stop: async () => {
      await end('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
