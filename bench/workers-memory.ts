import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { BENCH_FEED } from './feed.js';

/** Rss and Pss (shared pages split between the processes that map them) in MB, from smaps_rollup. */
function memoryOf(pid: number): { rss: number; pss: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { rss: kb('Rss') / 1024, pss: kb('Pss') / 1024 };
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Serves the 1,000,000 x 64 model with 1 and with 2 workers, warms every worker, and adds up the
 * memory of the whole process tree: RSS counts a shared page in every process, PSS splits it.
 */
export async function benchWorkersMemory(model: string, users: number): Promise<{ workers: number; processes: number; rssMb: number; pssMb: number }[]> {
  const results = [];
  for (const workers of [1, 2]) {
    const child = spawn(process.execPath, ['dist/recserve.mjs', 'serve', '--host', '127.0.0.1', '--port', '0', '--feed', BENCH_FEED, '--model', model], {
      env: { ...process.env, RECSERVE_WORKERS: String(workers) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await new Promise<string>((resolve) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
    });
    const pids = () => [child.pid!, ...childrenOf(child.pid!)];
    while ((await fetch(`${url}/readyz`, { headers: { connection: 'close' } })).status !== 200 || pids().length < (workers > 1 ? workers + 1 : 1)) await new Promise((r) => setTimeout(r, 100));
    // New connections spread over the workers, so every worker scores and touches the whole matrix.
    for (let i = 0; i < 40; i++) await (await fetch(`${url}/recommend/${i % users}`, { headers: { connection: 'close' } })).arrayBuffer();
    const all = pids().map(memoryOf);
    results.push({ workers, processes: all.length, rssMb: all.reduce((s, m) => s + m.rss, 0), pssMb: all.reduce((s, m) => s + m.pss, 0) });
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  return results;
}
