import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

/**
 * This machine's AVX2 fused multiply-adds per second (GFMA/s) on `threads` threads, from bench/fma-peak.c
 * built here with gcc;
 * the reason instead where it cannot be built or run (no gcc, not x86-64 with AVX2).
 */
export function avx2FmaPeak(threads: number): { gfmaPerSec: number } | { reason: string } {
  const binary = path.resolve('.bench', 'fma-peak');
  try {
    mkdirSync('.bench', { recursive: true });
    execFileSync('gcc', ['-O3', '-mavx2', '-mfma', '-pthread', 'bench/fma-peak.c', '-o', binary], { stdio: 'pipe' });
    return { gfmaPerSec: Number(execFileSync(binary, [String(threads)], { encoding: 'utf8' }).trim()) };
  } catch (err) {
    return { reason: (err as Error).message.split('\n')[0]! };
  }
}
