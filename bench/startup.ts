import { spawn } from 'node:child_process';
import { BENCH_FEED } from './feed.js';
import { freePort } from './http.js';

/**
 * Milliseconds from spawning `recserve serve` on one model to `/readyz` answering 200, polled every
 * 5 ms. With several workers the connections spread over them, so it waits for as many 200s in a row
 * as there are workers, each on a new connection.
 */
export async function timeToReady(model: string, workers: number): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, ['dist/recserve.mjs', 'serve', '--host', '127.0.0.1', '--port', String(port), '--feed', BENCH_FEED, '--model', model], {
    env: { ...process.env, RECSERVE_WORKERS: String(workers) },
    stdio: 'ignore',
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    for (let inARow = 0; inARow < workers; ) {
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`, { headers: { connection: 'close' } }).then((r) => r.status === 200, () => false);
      inARow = ok ? inARow + 1 : 0;
      if (!ok) await new Promise((r) => setTimeout(r, 5));
      if (performance.now() - t0 > 60_000) throw new Error(`${model} not ready after 60 s`);
    }
    return performance.now() - t0;
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}
