import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before } from 'node:test';
import { Redis } from 'ioredis';

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

async function waitForPing(url: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis at ${url} did not answer PING`);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      client.disconnect();
    }
  }
}

export interface TestRedis {
  url: string;
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop). */
  start(): Promise<void>;
}

/**
 * A real redis-server for the tests: REDIS_URL when set (stop/start are then not available),
 * otherwise a private one on a free port that keeps nothing on disk.
 */
export async function startRedis(): Promise<TestRedis> {
  if (process.env.REDIS_URL) {
    const url = process.env.REDIS_URL;
    const unsupported = async () => {
      throw new Error('cannot stop an external REDIS_URL server');
    };
    return { url, stop: unsupported, start: unsupported };
  }
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    const started = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    child = started;
    // A missing binary is an 'error' event, not a throw: it rejects the start, which the caller reports.
    const failed = once(started, 'error').then(([err]: Error[]) => {
      throw new Error(`cannot start redis-server (apt-get install redis-server, or set REDIS_URL): ${err!.message}`);
    });
    failed.catch(() => undefined); // an error after the start has nobody waiting on it
    await Promise.race([waitForPing(url), failed]);
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url, start, stop };
}

/**
 * One redis-server for a whole test file, with an admin client for seeding and checking keys:
 * started before the file's tests and stopped after them.
 */
export function useRedis(): { readonly url: string; readonly admin: Redis; readonly server: TestRedis } {
  let server: TestRedis | undefined;
  let admin: Redis | undefined;
  before(async () => {
    server = await startRedis();
    admin = new Redis(server.url);
  });
  after(async () => {
    admin?.disconnect();
    await server?.stop().catch(() => undefined);
  });
  return {
    get url() {
      return server!.url;
    },
    get admin() {
      return admin!;
    },
    get server() {
      return server!;
    },
  };
}
