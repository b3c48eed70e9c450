import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { compileExperiment, assign } from '../src/variants/experiments.js';

const IDS = 1_000_000;

/** Ids per second of `recserve bucket` (CSV in, CSV out, one process) and of the assignment function alone. */
export function benchBucket(): { cliIdsPerSec: number; functionIdsPerSec: Record<string, number> } {
  const dir = path.resolve('.bench');
  mkdirSync(dir, { recursive: true });
  const input = path.join(dir, 'users-1m.csv');
  if (!existsSync(input)) writeFileSync(input, 'user_id\n' + Array.from({ length: IDS }, (_, i) => (i % 3 === 0 ? `user-${i}` : i % 3 === 1 ? String(i * 7919) : `ユーザー${i}`)).join('\n') + '\n');
  const t0 = performance.now();
  execFileSync(process.execPath, ['dist/recserve.mjs', 'bucket', '--salt', 'bench', '--variants', 'a:50,b:50', '--input', input, '--output', path.join(dir, 'buckets-1m.csv')]);
  const cliIdsPerSec = IDS / ((performance.now() - t0) / 1000);
  const functionIdsPerSec: Record<string, number> = {};
  for (const hash of ['murmur3', 'spark'] as const) {
    const experiment = compileExperiment({ name: 'b', salt: 'bench', buckets: 10_000, hash, variants: [{ name: 'a', weight: 1, recommender: 'a' }, { name: 'b', weight: 1, recommender: 'b' }] });
    const t1 = performance.now();
    for (let i = 0; i < IDS; i++) assign(experiment, `user-${i}`);
    functionIdsPerSec[hash] = IDS / ((performance.now() - t1) / 1000);
  }
  return { cliIdsPerSec, functionIdsPerSec };
}
