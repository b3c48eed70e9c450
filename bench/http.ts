import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import autocannon from 'autocannon';

export interface HttpResult {
  label: string;
  connections: number;
  requestsPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** The percentage of the machine's CPU time the hypervisor stole during the run (bench/steal.ts), where measured. */
  steal?: number | undefined;
}

/** Starts the built server on a feed and resolves with its base URL once every model is ready. */
export async function startServer(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ url: string; stop: () => Promise<void> }> {
  // One process unless asked: the figures are per process unless a table says otherwise.
  const child = spawn(process.execPath, ['dist/recserve.mjs', 'serve', '--host', '127.0.0.1', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RECSERVE_WORKERS: '1', ...env } });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  for (let i = 0; (await fetch(`${url}/readyz`)).status !== 200; i++) {
    if (i === 600) {
      child.kill('SIGKILL');
      throw new Error(`server on ${args.join(' ')} not ready after 60 s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { url, stop: () => (child.kill('SIGTERM'), exited) };
}

/** autocannon at a fixed connection count, each request for a random user of firstUser..firstUser+users-1. */
export async function loadTest(label: string, url: string, users: number, connections: number, seconds: number, firstUser = 0): Promise<HttpResult> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/recommend/${firstUser + Math.floor(Math.random() * users)}?n=10` }) }],
  });
  return {
    label,
    connections,
    requestsPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** The kernels a server's /models says serve its first model: "lone / batched (isa)". */
export async function chosenKernels(url: string): Promise<string> {
  const { models } = (await (await fetch(`${url}/models`)).json()) as { models: { scoring: { lone: string; batched: string; isa: string | null } | null }[] };
  const s = models[0]?.scoring;
  return s ? `${s.lone} / ${s.batched}${s.isa ? ` (${s.isa})` : ''}` : 'n/a';
}

/** The event-loop delay p99 (ms) a server reports since its previous scrape. */
export async function eventLoopDelayP99(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/recserve_event_loop_delay_seconds\{quantile="0.99"\} (\S+)/.exec(text)?.[1] ?? NaN) * 1000;
}
