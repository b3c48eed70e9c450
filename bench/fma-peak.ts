import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export type FmaWidth = 'avx2' | 'avx512';

const FLAGS: Record<FmaWidth, string[]> = { avx2: ['-mavx2', '-mfma'], avx512: ['-mavx512f', '-DWIDE'] };

/** The /proc/cpuinfo flag a CPU needs for each width. */
export const CPU_FLAG: Record<FmaWidth, string> = { avx2: 'avx2', avx512: 'avx512f' };

/**
 * This machine's fused multiply-adds per second (GFMA/s) at one vector width on `threads` threads, from
 * bench/fma-peak.c built here with gcc; the reason instead where it cannot be built or run (no gcc, or a
 * CPU without that width).
 */
export function fmaPeak(width: FmaWidth, threads: number): { gfmaPerSec: number } | { reason: string } {
  const binary = path.resolve('.bench', `fma-peak-${width}`);
  try {
    mkdirSync('.bench', { recursive: true });
    execFileSync('gcc', ['-O3', ...FLAGS[width], '-pthread', 'bench/fma-peak.c', '-o', binary], { stdio: 'pipe' });
    return { gfmaPerSec: Number(execFileSync(binary, [String(threads)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()) };
  } catch (err) {
    return { reason: (err as Error).message.split('\n')[0]! };
  }
}
