import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BENCH_FEED } from './feed.js';
import { freePort } from './http.js';

/**
 * Milliseconds from spawning `recserve serve` on one model to `/readyz` answering 200, polled every
 * 5 ms. With several workers the connections spread over them, so it waits for as many 200s in a row
 * as there are workers, each on a new connection.
 */
export async function timeToReady(model: string, workers: number, { forgetDigests = false } = {}): Promise<number> {
  const port = await freePort();
  // Its own record of verified digests, so a first start can be measured by forgetting it.
  const records = path.resolve('.bench', 'verified-digests');
  if (forgetDigests) rmSync(records, { recursive: true, force: true });
  const config = path.resolve('.bench', `startup-${model}.yaml`);
  writeFileSync(config, `feed: ${BENCH_FEED}\nmodels: [{name: ${model}}]\nscoring: {digestRecordDir: ${records}}\n`);
  const t0 = performance.now();
  const child = spawn(process.execPath, ['dist/recserve.mjs', 'serve', '--config', config, '--host', '127.0.0.1', '--port', String(port)], {
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
